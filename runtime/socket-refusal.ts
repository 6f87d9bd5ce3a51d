import { closeCodeForError } from "../protocol/close-codes.ts";
import type { ErrorCode } from "../protocol/error-codes.ts";
import type { ErrorFrame } from "../protocol/frames.ts";

/** Ends a socket the way a client can read: an error frame, then the close code that goes with it. */
export function closeWithRefusal(ws: WebSocket, code: ErrorCode, message: string, retryAfterSeconds?: number): void {
  const frame: ErrorFrame = { type: "error", code, message, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) };
  try {
    ws.send(JSON.stringify(frame));
    ws.close(closeCodeForError(code), code);
  } catch {
    // Already closing.
  }
}

/**
 * Refuses a WebSocket upgrade the way a WebSocket client can see: accept, send an error frame,
 * close with the matching close code. An HTTP 4xx on an upgrade reaches browsers only as a bare
 * 1006 close, which a reconnecting client would retry forever.
 */
export function refuseSocket(code: ErrorCode, message: string, retryAfterSeconds?: number): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  // Not hibernatable on purpose: the socket lives only for these two frames.
  server.accept();
  closeWithRefusal(server, code, message, retryAfterSeconds);
  return new Response(null, { status: 101, webSocket: client });
}
