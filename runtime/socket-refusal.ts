import { closeCodeForError } from "../protocol/close-codes.ts";
import type { ErrorCode } from "../protocol/error-codes.ts";
import type { ErrorFrame } from "../protocol/frames.ts";

/**
 * Refuses a WebSocket upgrade the way a WebSocket client can see: accept, send an error frame,
 * close with the matching close code. An HTTP 4xx on an upgrade reaches browsers only as a bare
 * 1006 close, which a reconnecting client would retry forever.
 */
export function refuseSocket(code: ErrorCode, message: string, retryAfterSeconds?: number): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  // Not hibernatable on purpose: the socket lives only for these two frames.
  server.accept();
  const frame: ErrorFrame = { type: "error", code, message, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) };
  server.send(JSON.stringify(frame));
  server.close(closeCodeForError(code), code);
  return new Response(null, { status: 101, webSocket: client });
}
