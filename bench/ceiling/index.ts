/** workerd's WebSocket pair (declared here: this folder is type-checked with DOM types, not Workers types). */
declare const WebSocketPair: new () => { 0: WebSocket; 1: WebSocket & { accept(): void } };

/**
 * The runtime's ceiling, for comparison with the mesh: a publish is read and parsed like the
 * mesh's Worker does, then answered at once (no validation, no Durable Object, no storage); a
 * WebSocket upgrade is accepted by the Worker itself and held open (the runtime's own cost of a
 * connection, with no Durable Object behind it).
 */
export default {
  async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const pair = new WebSocketPair();
      pair[1].accept();
      pair[1].send('{"type":"ready"}');
      return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
    }
    if (request.method !== "POST") return new Response("POST or WebSocket only", { status: 405 });
    const value: unknown = JSON.parse(await request.text());
    const count = Array.isArray(value) ? value.length : 1;
    return new Response(`{"events":${count}}`, { status: 201, headers: { "content-type": "application/json" } });
  },
};
