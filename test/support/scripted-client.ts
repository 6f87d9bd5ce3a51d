import type { WebSocketServer } from "ws";
import WebSocket from "ws";
import { createMeshClient, type MeshClient, type MeshClientOptions } from "../../client/index.ts";

/**
 * The real client against a scripted `ws` server on 127.0.0.1: retries within milliseconds and no
 * heartbeat, so the script decides every frame the client sees.
 */
export function scriptedClient(server: WebSocketServer, options: Partial<MeshClientOptions> = {}): MeshClient {
  const { port } = server.address() as { port: number };
  return createMeshClient({
    url: `http://127.0.0.1:${port}`,
    WebSocket,
    backoff: { firstDelayMs: 10, maxDelayMs: 20 },
    heartbeat: false,
    ...options,
  });
}
