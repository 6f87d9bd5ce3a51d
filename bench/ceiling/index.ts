import { DurableObject } from "cloudflare:workers";

/** workerd's WebSocket pair (declared here: this folder is type-checked with DOM types, not Workers types). */
declare const WebSocketPair: new () => { 0: WebSocket; 1: WebSocket & { accept(): void } };

/** The parts of a Durable Object's state the relaying object uses. */
interface RoomState extends SqlState {
  acceptWebSocket(ws: WebSocket): void;
  getWebSockets(): WebSocket[];
}

/** What the mesh's Worker hands its topic object per event: dedup key, type and JSON. */
interface HopEvent {
  id: string;
  source: string;
  type: string;
  json: string;
}

/** The parts of a SQLite Durable Object's state the commit floor uses. */
interface SqlState {
  storage: { sql: { exec(query: string, ...bindings: unknown[]): { toArray(): { seq: number | null }[] } } };
}

/** A publish RPC as the mesh's topic object takes it. */
type PublishStub = { publish(events: HopEvent[]): Promise<{ id: string; source: string; seq: number }[]> };

/** The relaying object as the Worker (fetch) and the storing origin (RPC) reach it. */
type RoomStub = { fetch(request: Request): Promise<Response>; relay(frame: string): void };

interface Env {
  ROOM: { idFromName(name: string): unknown; get(id: unknown): RoomStub };
  ORIGIN: {
    idFromName(name: string): unknown;
    get(id: unknown): { publish(body: string, room: string): Promise<void> };
  };
  HOP: { idFromName(name: string): unknown; get(id: unknown): PublishStub };
  COMMIT: { idFromName(name: string): unknown; get(id: unknown): PublishStub };
}

function accepted(server: WebSocket & { accept(): void }, client: WebSocket): Response {
  server.send('{"type":"ready"}');
  return new Response(null, { status: 101, webSocket: client } as ResponseInit);
}

/**
 * A Durable Object that only relays: hibernatable sockets and a broadcast of each POSTed body,
 * with no validation and no sequence. The runtime's own floor for fan-out. With `?store` in the
 * URL it first writes each body to its SQLite, so the runtime holds the sends until the write is
 * durable: the floor for delivering only stored events from the object that holds the sockets.
 */
export class Room extends DurableObject {
  constructor(
    private readonly state: RoomState,
    env: unknown,
  ) {
    super(state, env);
    createBodies(state);
  }

  async fetch(request: Request): Promise<Response> {
    if (request.method === "POST") {
      const body = await request.text();
      if (new URL(request.url).searchParams.has("store")) storeBody(this.state, body);
      this.relay(`{"type":"event","event":${body}}`);
      return new Response('{"events":1}', { status: 201, headers: { "content-type": "application/json" } });
    }
    const pair = new WebSocketPair();
    this.state.acceptWebSocket(pair[1]);
    return accepted(pair[1], pair[0]);
  }

  /** Sends one frame to every socket: the POST above, or an RPC from the storing origin below. */
  relay(frame: string): void {
    for (const ws of this.state.getWebSockets()) ws.send(frame);
  }

  /** Completes the client's close handshake, as the mesh does. */
  webSocketClose(ws: WebSocket, code: number): void {
    ws.close(code === 1005 || code === 1006 ? 1000 : code);
  }
}

/**
 * The shape of the mesh's path with none of its work: an object that stores each POSTed body, then
 * hands it by RPC to a relaying object holding the sockets (the runtime holds the RPC until the
 * write is durable), and answers. The floor for a log that pushes stored events to a second tier.
 */
export class Origin extends DurableObject {
  constructor(
    private readonly state: SqlState,
    private readonly env: Env,
  ) {
    super(state, env);
    createBodies(state);
  }

  publish(body: string, room: string): void {
    storeBody(this.state, body);
    void this.env.ROOM.get(this.env.ROOM.idFromName(room)).relay(`{"type":"event","event":${body}}`);
  }
}

/** One row per body, written by the floors that store before they relay. */
function createBodies(state: SqlState): void {
  state.storage.sql.exec("CREATE TABLE IF NOT EXISTS bodies (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
}

function storeBody(state: SqlState, body: string): void {
  state.storage.sql.exec("INSERT INTO bodies (body) VALUES (?)", body);
}

/**
 * A Durable Object that answers a publish RPC as the mesh's topic object does, numbering the events,
 * but stores nothing: what the Worker → Durable Object hop itself costs (the hop floor).
 */
export class Hop extends DurableObject {
  private seq = 0;

  publish(events: HopEvent[]): { id: string; source: string; seq: number }[] {
    return events.map((event) => ({ id: event.id, source: event.source, seq: ++this.seq }));
  }
}

/**
 * The same, but each event is stored in the object's SQLite before the answer, which the runtime
 * holds until the write is durable: what one durable commit per publish call costs (the commit
 * floor), with none of the mesh's checks, dedup or bookkeeping.
 */
export class Commit extends DurableObject {
  private readonly sql: SqlState["storage"]["sql"];
  private seq: number;

  constructor(ctx: SqlState, env: unknown) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    this.seq = this.sql.exec("SELECT MAX(seq) AS seq FROM events").toArray()[0]?.seq ?? 0;
  }

  publish(events: HopEvent[]): { id: string; source: string; seq: number }[] {
    return events.map((event) => {
      this.seq += 1;
      this.sql.exec("INSERT INTO events (seq, body) VALUES (?, ?)", this.seq, event.json);
      return { id: event.id, source: event.source, seq: this.seq };
    });
  }
}

/** `POST /hop|commit/v1/topics/:topic/events`: parsed and serialized per event like the mesh, then the RPC. */
async function floorPublish(request: Request, stub: PublishStub, topic: string): Promise<Response> {
  const value: unknown = JSON.parse(await request.text());
  const events = (Array.isArray(value) ? value : [value]) as Record<string, unknown>[];
  const accepted = events.map((event) => ({
    id: String(event.id),
    source: String(event.source),
    type: String(event.type),
    json: JSON.stringify(event),
  }));
  const answered = await stub.publish(accepted);
  return Response.json({ topic, events: answered }, { status: 201 });
}

/** The history floor's page, as `PUT /page` left it (UTF-8, as the mesh's log hands a page over). */
let page: ArrayBuffer | null = null;

/**
 * `PUT /page` keeps a body; `GET /page` answers it from the Worker's memory: the runtime's floor for
 * a history page of the same bytes, with no Durable Object, storage or checks behind it.
 */
async function pageFloor(request: Request): Promise<Response> {
  if (request.method === "PUT") {
    page = await request.arrayBuffer();
    return new Response(null, { status: 204 });
  }
  if (page === null) return new Response("PUT /page first", { status: 404 });
  return new Response(page, { headers: { "content-type": "application/json; charset=utf-8" } });
}

/** Body of `POST /post-loop`: POST `body` to `url` `count` times, one after another. */
interface PostLoop {
  url: string;
  body: string;
  count: number;
}

/**
 * The runtime's outbound floor for webhook delivery: one POST at a time to the receiver, each
 * awaited with its answer read, as a subscription in strict order sends them; nothing else (no
 * storage, no signing). Answers how many succeeded and how long the loop took.
 */
async function postLoop({ url, body, count }: PostLoop): Promise<Response> {
  const started = Date.now();
  let ok = 0;
  for (let i = 0; i < count; i++) {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    await res.body?.cancel();
    if (res.ok) ok += 1;
  }
  return Response.json({ ok, ms: Date.now() - started });
}

/**
 * The runtime's ceiling, for comparison with the mesh (bench only, never deployed):
 * - `POST /v1/topics/:topic/events` reads and parses the body like the mesh's Worker, then answers
 *   at once (no validation, no Durable Object, no storage);
 * - a WebSocket upgrade on `/ws` is accepted by the Worker itself and held (what a connection costs
 *   the runtime with no Durable Object behind it);
 * - `/room/:name` (upgrade or POST) reaches the relaying Durable Object above, `?store` its storing variant;
 * - `POST /origin/room/:name` stores in the origin object, which relays through `/room/:name`;
 * - `POST /hop/v1/topics/:topic/events` goes through the Durable Object that stores nothing (the hop floor);
 * - `POST /commit/v1/topics/:topic/events` through the one that stores each event (the commit floor);
 * - `POST /post-loop` POSTs to a receiver in a loop (the outbound floor, above);
 * - `PUT|GET /page` keeps and answers a history page (the history floor, above).
 */
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname.startsWith("/room/")) return env.ROOM.get(env.ROOM.idFromName(pathname)).fetch(request);
    const origin = /^\/origin(\/room\/.+)$/.exec(pathname);
    if (origin && request.method === "POST") {
      await env.ORIGIN.get(env.ORIGIN.idFromName(origin[1])).publish(await request.text(), origin[1]);
      return new Response('{"events":1}', { status: 201, headers: { "content-type": "application/json" } });
    }
    const floor = /^\/(hop|commit)\/v1\/topics\/([^/]+)\/events$/.exec(pathname);
    if (floor && request.method === "POST") {
      const [, kind, topic] = floor as unknown as [string, "hop" | "commit", string];
      const namespace = kind === "hop" ? env.HOP : env.COMMIT;
      return floorPublish(request, namespace.get(namespace.idFromName(topic)), topic);
    }
    if (pathname === "/post-loop") return postLoop((await request.json()) as PostLoop);
    if (pathname === "/page") return pageFloor(request);
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
