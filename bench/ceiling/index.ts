/** workerd's WebSocket pair (declared here: this folder is type-checked with DOM types, not Workers types). */
declare const WebSocketPair: new () => { 0: WebSocket; 1: WebSocket & { accept(): void } };

/** The parts of a Durable Object's state this file uses. */
interface RoomState {
  acceptWebSocket(ws: WebSocket): void;
  getWebSockets(): WebSocket[];
}

interface Env {
  ROOM: {
    idFromName(name: string): unknown;
    get(id: unknown): { fetch(request: Request): Promise<Response> };
  };
}

function accepted(server: WebSocket & { accept(): void }, client: WebSocket): Response {
  server.send('{"type":"ready"}');
  return new Response(null, { status: 101, webSocket: client } as ResponseInit);
}

/**
 * A Durable Object that only relays: hibernatable sockets and a broadcast of each POSTed body,
 * with no storage, no validation and no sequence. The runtime's own floor for fan-out.
 */
export class Room {
  constructor(private readonly state: RoomState) {}

  async fetch(request: Request): Promise<Response> {
    if (request.method === "POST") {
      const frame = `{"type":"event","event":${await request.text()}}`;
      for (const ws of this.state.getWebSockets()) ws.send(frame);
      return new Response('{"events":1}', { status: 201, headers: { "content-type": "application/json" } });
    }
    const pair = new WebSocketPair();
    this.state.acceptWebSocket(pair[1]);
    return accepted(pair[1], pair[0]);
  }

  /** Completes the client's close handshake, as the mesh does. */
  webSocketClose(ws: WebSocket, code: number): void {
    ws.close(code === 1005 || code === 1006 ? 1000 : code);
  }
}

/**
 * The runtime's ceiling, for comparison with the mesh (bench only, never deployed):
 * - `POST /v1/topics/:topic/events` reads and parses the body like the mesh's Worker, then answers
 *   at once (no validation, no Durable Object, no storage);
 * - a WebSocket upgrade on `/ws` is accepted by the Worker itself and held (what a connection costs
 *   the runtime with no Durable Object behind it);
 * - `/room/:name` (upgrade or POST) reaches the relaying Durable Object above.
 */
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname.startsWith("/room/")) return env.ROOM.get(env.ROOM.idFromName(pathname)).fetch(request);
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const pair = new WebSocketPair();
      pair[1].accept();
      pair[1].addEventListener("close", (event) => pair[1].close(event.code === 1005 ? 1000 : event.code));
      return accepted(pair[1], pair[0]);
    }
    if (request.method !== "POST") return new Response("POST or WebSocket only", { status: 405 });
    const value: unknown = JSON.parse(await request.text());
    const count = Array.isArray(value) ? value.length : 1;
    return new Response(`{"events":${count}}`, { status: 201, headers: { "content-type": "application/json" } });
  },
};
