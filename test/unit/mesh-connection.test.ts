import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { memoryStorage } from "../../client/cursor-storage.ts";
import type { MeshClient, MeshClientOptions } from "../../client/mesh-client.ts";
import type { SubscribeOptions, Subscription, SubscriptionError } from "../../client/subscription.ts";
import type { SubscriptionState } from "../../client/subscription-state.ts";
import type { ClientFrame } from "../../protocol/frames.ts";
import { scriptedClient } from "../support/scripted-client.ts";

/**
 * The shared connection (`connection: "shared"`): many topics on one `/v1/ws` socket, against a
 * scripted WebSocket server in Node that answers subscribe frames as each test says, misbehaving
 * on purpose where a case needs it (stale frames, holes, refusals).
 */

interface Connection {
  path: string;
  query: URLSearchParams;
  socket: WebSocket;
  /** Every text the client sent, in order. */
  received: string[];
  closed: Promise<number>;
}

/** Answers one client frame (subscribe / unsubscribe) on a connection. */
type Responder = (conn: Connection, frame: ClientFrame) => void;

let wss: WebSocketServer;
let connections: Connection[];
let respond: Responder;
let client: MeshClient;

const stored = (seq: number, type = "Thing") => ({
  id: `e${seq}`,
  source: "s",
  specversion: "1.0",
  type,
  time: "2026-01-01T00:00:00Z",
  seq,
});

const frames = {
  subscribed: (topic: string, after: number) => JSON.stringify({ type: "subscribed", topic, after }),
  event: (topic: string, seq: number, type?: string) =>
    JSON.stringify({ type: "event", topic, event: stored(seq, type) }),
  events: (topic: string, ...seqs: number[]) =>
    JSON.stringify({ type: "events", topic, events: seqs.map((seq) => stored(seq)) }),
  caughtUp: (topic: string, head: number, epoch = "e1") => JSON.stringify({ type: "caught-up", topic, head, epoch }),
  refused: (topic: string, code: string, retryAfterSeconds?: number) =>
    JSON.stringify({ type: "unsubscribed", topic, code, message: `${code}!`, retryAfterSeconds }),
  mark: (id: string) => JSON.stringify({ type: "mark", id }),
};

const send = (conn: Connection, ...texts: string[]) => {
  for (const text of texts) conn.socket.send(text);
};

/** The subscribe / unsubscribe frames a connection received, parsed. */
const clientFrames = (conn: Connection): ClientFrame[] =>
  conn.received.filter((text) => text.startsWith("{")).map((text) => JSON.parse(text) as ClientFrame);
const subscribes = (conn: Connection, topic?: string) =>
  clientFrames(conn).filter((frame) => frame.type === "subscribe" && (topic === undefined || frame.topic === topic));

/** The usual server: `subscribed`, the events after the cursor up to `heads[topic]`, `caught-up`. */
const replayTo =
  (heads: Record<string, number>): Responder =>
  (conn, frame) => {
    if (frame.type !== "subscribe") return;
    const after = frame.after ?? 0;
    const head = heads[frame.topic] ?? 0;
    const seqs = Array.from({ length: Math.max(0, head - after) }, (_, i) => after + 1 + i);
    send(conn, frames.subscribed(frame.topic, after));
    if (seqs.length > 0) send(conn, frames.events(frame.topic, ...seqs));
    send(conn, frames.caughtUp(frame.topic, head));
  };

beforeEach(async () => {
  connections = [];
  respond = replayTo({});
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  wss.on("connection", (socket, request) => {
    const url = new URL(request.url ?? "/", "http://x");
    const received: string[] = [];
    const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
    const conn: Connection = { path: url.pathname, query: url.searchParams, socket, received, closed };
    socket.on("message", (data) => {
      const text = String(data);
      received.push(text);
      if (text.startsWith("{")) respond(conn, JSON.parse(text) as ClientFrame);
    });
    connections.push(conn);
  });
  client = makeClient();
});

afterEach(async () => {
  client.close();
  for (const conn of connections) conn.socket.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

function makeClient(extra: Partial<MeshClientOptions> = {}): MeshClient {
  return scriptedClient(wss, { connection: "shared", ...extra });
}

function subscribe(topic: string, options: Partial<SubscribeOptions> = {}, on: MeshClient = client) {
  const seqs: number[] = [];
  const states: SubscriptionState[] = [];
  const errors: SubscriptionError[] = [];
  const subscription: Subscription = on.subscribe(topic, {
    onEvent: (event) => seqs.push(event.seq),
    onStateChange: (state) => states.push(state),
    onError: (error) => errors.push(error),
    ...options,
  });
  return { seqs, states, errors, subscription };
}

async function until(predicate: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("many topics, one socket", () => {
  it("opens one /v1/ws socket for every topic and routes each topic's frames to its subscription", async () => {
    respond = replayTo({ a: 3, b: 1, c: 2 });
    const subs = ["a", "b", "c"].map((topic) => subscribe(topic));
    await until(() => subs.every((sub) => sub.subscription.state === "live"), "all live");
    expect(connections).toHaveLength(1);
    expect(connections[0].path).toBe("/v1/ws");
    expect(Object.fromEntries(connections[0].query)).toMatchObject({ batch: "true", key: "a" });
    expect(subscribes(connections[0])).toEqual([
      { type: "subscribe", topic: "a", after: 0 },
      { type: "subscribe", topic: "b", after: 0 },
      { type: "subscribe", topic: "c", after: 0 },
    ]);
    expect(subs.map((sub) => sub.seqs)).toEqual([[1, 2, 3], [1], [1, 2]]);
    expect(subs[0].states).toEqual(["replaying", "live"]);
    expect(subs[0].subscription.epoch).toBe("e1");
    // Live frames go by topic too.
    send(connections[0], frames.event("b", 2), frames.event("a", 4));
    await until(() => subs[1].seqs.length === 2 && subs[0].seqs.length === 4, "live events");
    expect(subs[2].seqs).toEqual([1, 2]);
  });

  it("ignores a topic's frames that come before its subscribed frame", async () => {
    respond = (conn, frame) => {
      if (frame.type !== "subscribe") return;
      // Left over from an earlier subscription of the topic: a hole if it were taken for this one.
      send(conn, frames.event("a", 7), frames.caughtUp("a", 7));
      send(conn, frames.subscribed("a", 0), frames.event("a", 1), frames.caughtUp("a", 1));
    };
    const sub = subscribe("a");
    await until(() => sub.subscription.state === "live", "live");
    await sleep(50);
    expect(sub.seqs).toEqual([1]);
    expect(subscribes(connections[0])).toHaveLength(1);
  });

  it("answers each mark frame with ack:<id> once the frames before it are handed on", async () => {
    respond = (conn, frame) => {
      if (frame.type !== "subscribe") return;
      send(conn, frames.subscribed("a", 0), frames.event("a", 1), frames.mark("00000000000000a1"));
      send(conn, frames.caughtUp("a", 1), frames.mark("00000000000000a2"));
    };
    const sub = subscribe("a");
    await until(() => connections[0]?.received.filter((t) => t.startsWith("ack:")).length === 2, "two acks");
    expect(connections[0].received.filter((t) => t.startsWith("ack:"))).toEqual([
      "ack:00000000000000a1",
      "ack:00000000000000a2",
    ]);
    expect(sub.seqs).toEqual([1]);
  });
});

describe("repairing one topic", () => {
  it("resubscribes only the topic with a hole, from its lastSeq, on the same socket", async () => {
    let servedA = 0;
    respond = (conn, frame) => {
      if (frame.type !== "subscribe") return;
      if (frame.topic === "b") {
        send(conn, frames.subscribed("b", 0), frames.event("b", 1), frames.caughtUp("b", 1));
        return;
      }
      servedA += 1;
      if (servedA === 1) {
        // 3 is missing; 5 still belongs to this stream and must not be taken after the resubscribe.
        send(conn, frames.subscribed("a", 0), frames.events("a", 1, 2, 4), frames.event("a", 5));
      } else {
        send(conn, frames.subscribed("a", frame.after ?? 0), frames.events("a", 3, 4, 5), frames.caughtUp("a", 5));
      }
    };
    const a = subscribe("a");
    const b = subscribe("b");
    await until(() => a.subscription.state === "live" && b.subscription.state === "live", "both live");
    expect(connections).toHaveLength(1);
    expect(subscribes(connections[0], "a").map((frame) => frame.type === "subscribe" && frame.after)).toEqual([0, 2]);
    expect(subscribes(connections[0], "b")).toHaveLength(1);
    expect(a.seqs).toEqual([1, 2, 3, 4, 5]);
    expect(a.states).toEqual(["replaying", "reconnecting", "replaying", "live"]);
    expect(b.states).toEqual(["replaying", "live"]);
  });

  it("after a reconnect, subscribes every topic again with its own cursor, epoch, types and filter", async () => {
    respond = (conn, frame) => {
      if (frame.type !== "subscribe") return;
      if (frame.topic === "a") {
        send(conn, frames.subscribed("a", frame.after ?? 0));
        if ((frame.after ?? 0) < 3) send(conn, frames.events("a", 1, 2, 3));
        send(conn, frames.caughtUp("a", 3, "ea"));
      } else {
        send(conn, frames.subscribed("b", frame.after ?? 0), frames.event("b", 4, "A"), frames.caughtUp("b", 9, "eb"));
      }
    };
    const a = subscribe("a");
    const b = subscribe("b", { types: ["A"], filter: [{ exact: { region: "eu" } }] });
    await until(() => a.subscription.state === "live" && b.subscription.state === "live", "both live");
    connections[0].socket.close(1001);
    await until(() => connections.length === 2 && subscribes(connections[1]).length === 2, "second connection");
    expect(subscribes(connections[1])).toEqual([
      { type: "subscribe", topic: "a", after: 3, epoch: "ea" },
      { type: "subscribe", topic: "b", after: 9, epoch: "eb", types: ["A"], filter: [{ exact: { region: "eu" } }] },
    ]);
    await until(() => a.subscription.state === "live" && b.subscription.state === "live", "live again");
    expect(a.states).toEqual(["replaying", "live", "reconnecting", "replaying", "live"]);
    expect(a.seqs).toEqual([1, 2, 3]);
    expect(b.seqs).toEqual([4]);
  });

  it("ends only the refused subscription on a terminal unsubscribed", async () => {
    respond = (conn, frame) => {
      if (frame.type !== "subscribe") return;
      if (frame.topic === "b") send(conn, frames.refused("b", "forbidden"));
      else send(conn, frames.subscribed("a", 0), frames.caughtUp("a", 0));
    };
    const a = subscribe("a");
    const b = subscribe("b");
    await until(() => b.subscription.state === "closed" && a.subscription.state === "live", "b closed, a live");
    expect(b.errors).toEqual([{ code: "forbidden", message: "forbidden!", terminal: true }]);
    expect(b.states).toEqual(["closed"]);
    send(connections[0], frames.event("a", 1));
    await until(() => a.seqs.length === 1, "a live event");
    expect(a.errors).toEqual([]);
    // The server already dropped b: nothing to unsubscribe.
    expect(clientFrames(connections[0]).filter((frame) => frame.type === "unsubscribe")).toEqual([]);
  });

  it("subscribes again after the delay a retryable unsubscribed asks for", async () => {
    const asked: number[] = [];
    respond = (conn, frame) => {
      if (frame.type !== "subscribe") return;
      if (frame.topic === "a") {
        send(conn, frames.subscribed("a", 0), frames.caughtUp("a", 0));
        return;
      }
      asked.push(Date.now());
      if (asked.length === 1) send(conn, frames.refused("b", "overloaded", 1));
      else send(conn, frames.subscribed("b", 0), frames.event("b", 1), frames.caughtUp("b", 1));
    };
    const a = subscribe("a");
    const b = subscribe("b");
    await until(() => b.subscription.state === "live", "b live");
    // The backoff alone (10-20 ms here) would have come back at once.
    expect(asked[1] - asked[0]).toBeGreaterThanOrEqual(950);
    expect(b.errors).toEqual([{ code: "overloaded", message: "overloaded!", terminal: false }]);
    expect(b.seqs).toEqual([1]);
    expect(a.states).toEqual(["replaying", "live"]);
    expect(connections).toHaveLength(1);
  });
});

describe("closing and connections", () => {
  it("unsubscribes a closed topic and closes the socket with the last one", async () => {
    const a = subscribe("a");
    const b = subscribe("b");
    await until(() => a.subscription.state === "live" && b.subscription.state === "live", "both live");
    a.subscription.close();
    await until(() => clientFrames(connections[0]).some((frame) => frame.type === "unsubscribe"), "unsubscribe");
    expect(clientFrames(connections[0]).at(-1)).toEqual({ type: "unsubscribe", topic: "a" });
    expect(connections[0].socket.readyState).toBe(WebSocket.OPEN);
    b.subscription.close();
    expect(await connections[0].closed).toBe(1000);
    await sleep(100);
    expect(connections).toHaveLength(1);
  });

  it("gives a subscription with its own token a shared connection of its own", async () => {
    const withKey = makeClient({ token: "client-token" });
    const a = subscribe("a", {}, withKey);
    const b = subscribe("b", { token: "b-token" }, withKey);
    const c = subscribe("c", {}, withKey);
    await until(() => [a, b, c].every((sub) => sub.subscription.state === "live"), "all live");
    expect(connections).toHaveLength(2);
    const byToken = Object.fromEntries(
      connections.map((conn) => [conn.query.get("token"), subscribes(conn).map((f) => f.topic)]),
    );
    expect(byToken).toEqual({ "client-token": ["a", "c"], "b-token": ["b"] });
    withKey.close();
  });

  it("gives a second subscription of the same topic another socket, since a socket follows a topic once", async () => {
    respond = replayTo({ a: 2 });
    const first = subscribe("a");
    const second = subscribe("a", { types: ["Thing"] });
    await until(() => first.seqs.length === 2 && second.seqs.length === 2, "both replayed");
    expect(connections).toHaveLength(2);
  });

  it("keeps the one-topic URL for a subscription that asks for its own socket", async () => {
    const own = subscribe("a", { connection: "own" });
    await until(() => connections.length === 1, "a connection");
    expect(connections[0].path).toBe("/v1/topics/a/ws");
    expect(Object.fromEntries(connections[0].query)).toMatchObject({ after: "0", batch: "true" });
    own.subscription.close();
  });

  it("fetches a fresh token when the socket's expires (4440) and subscribes every topic again", async () => {
    let minted = 0;
    const tokens = makeClient({ token: async () => `token-${++minted}` });
    respond = (conn, frame) => {
      if (conn === connections[0] && subscribes(conn).length === 2) conn.socket.close(4440, "token expired");
      else replayTo({ a: 1, b: 1 })(conn, frame);
    };
    const a = subscribe("a", {}, tokens);
    const b = subscribe("b", {}, tokens);
    await until(() => connections.length === 2 && a.seqs.length === 1 && b.seqs.length === 1, "resumed");
    expect(connections.map((conn) => conn.query.get("token"))).toEqual(["token-1", "token-2"]);
    expect(subscribes(connections[1]).map((frame) => frame.topic)).toEqual(["a", "b"]);
    expect(a.errors.map((error) => error.code)).toEqual(["token_expired"]);
    tokens.close();
  });

  it("stops every topic on a terminal close of the socket", async () => {
    respond = (conn) => {
      send(conn, JSON.stringify({ type: "error", code: "unauthorized", message: "no token" }));
      conn.socket.close(4401, "unauthorized");
    };
    const a = subscribe("a");
    const b = subscribe("b");
    await until(() => a.subscription.state === "closed" && b.subscription.state === "closed", "both closed");
    const error = { code: "unauthorized", message: "no token", closeCode: 4401, terminal: true };
    expect([a.errors, b.errors]).toEqual([[error], [error]]);
    await sleep(100);
    expect(connections).toHaveLength(1);
  });
});

describe("rewind", () => {
  const rewound = (topic: string, after: number, epoch: string) =>
    JSON.stringify({ type: "subscribed", topic, after, epoch });

  it("sends the rewind on the first subscribe only, then resumes from the cursor it resolved to", async () => {
    respond = (conn, frame) => {
      if (frame.type !== "subscribe") return;
      if (frame.last !== undefined) {
        send(conn, rewound("a", 7, "e1"), frames.events("a", 8, 9), frames.caughtUp("a", 9));
        // Cut before the next event reaches the client.
        conn.socket.close(1001);
        return;
      }
      send(conn, frames.subscribed("a", frame.after ?? 0), frames.event("a", 10), frames.caughtUp("a", 10));
    };
    const a = subscribe("a", { last: 3 });
    await until(() => a.seqs.length === 3 && a.subscription.state === "live", "resumed");
    expect(subscribes(connections[0])).toEqual([{ type: "subscribe", topic: "a", last: 3 }]);
    expect(subscribes(connections[1])).toEqual([{ type: "subscribe", topic: "a", after: 9, epoch: "e1" }]);
    expect(a.seqs).toEqual([8, 9, 10]);
  });

  it("sends the rewind again while the server has not answered it, and since as RFC 3339", async () => {
    respond = (conn, frame) => {
      if (frame.type !== "subscribe") return;
      if (connections.length === 1) conn.socket.close(1001);
      else send(conn, rewound("a", 4, "e1"), frames.event("a", 5), frames.caughtUp("a", 5));
    };
    const a = subscribe("a", { since: new Date(Date.UTC(2026, 4, 1, 10)) });
    await until(() => a.subscription.state === "live", "live");
    const since = "2026-05-01T10:00:00.000Z";
    expect(connections.map((conn) => subscribes(conn))).toEqual([
      [{ type: "subscribe", topic: "a", since }],
      [{ type: "subscribe", topic: "a", since }],
    ]);
    expect(a.seqs).toEqual([5]);
  });

  it("a stored position wins over a rewind", async () => {
    respond = replayTo({ a: 6 });
    const storage = memoryStorage();
    await storage.set("event-mesh:a", JSON.stringify({ lastSeq: 4, epoch: "e1" }));
    const a = subscribe("a", { last: 100, storage });
    await until(() => a.subscription.state === "live", "live");
    expect(subscribes(connections[0])).toEqual([{ type: "subscribe", topic: "a", after: 4, epoch: "e1" }]);
    expect(a.seqs).toEqual([5, 6]);
  });

  it("on its own socket: the query carries the rewind, then the cursor a subscribed frame named", async () => {
    wss.on("connection", (socket) => {
      if (connections.length === 1) {
        socket.send(rewound("a", 2, "e1"));
        socket.send(frames.events("a", 3));
        socket.close(1001);
      } else {
        socket.send(frames.caughtUp("a", 3));
      }
    });
    const own = subscribe("a", { connection: "own", last: 1 });
    await until(() => own.subscription.state === "live", "live");
    // partysocket adds its own `_pk` to the query.
    expect(connections.map(({ query }) => ({ ...Object.fromEntries(query), _pk: undefined }))).toEqual([
      { last: "1", batch: "true", _pk: undefined },
      { after: "3", epoch: "e1", batch: "true", _pk: undefined },
    ]);
    expect(own.seqs).toEqual([3]);
  });

  it.each([
    [{ last: 3, after: 2 }, "give after or a rewind (last, since), not both"],
    [{ last: 3, since: "2026-05-01T10:00:00Z" }, "give last or since, not both"],
    [{ last: 1001 }, "last must be an integer from 0 to 1000"],
    [{ since: "yesterday" }, "since must be a valid Date or an RFC 3339 timestamp"],
    [{ since: new Date(Number.NaN) }, "since must be a valid Date or an RFC 3339 timestamp"],
  ])("refuses %j before connecting", (options, message) => {
    expect(() => subscribe("a", options)).toThrow(new RangeError(message));
  });
});

describe("publishing on the shared connection", () => {
  const published = (id: string, results: unknown[]) => JSON.stringify({ type: "published", id, topic: "a", results });
  const publishes = (conn: Connection) => clientFrames(conn).filter((frame) => frame.type === "publish");

  it("sends each publish as a frame, settles it from its answer, and closes a socket opened only for it", async () => {
    respond = (conn, frame) => {
      if (frame.type !== "publish") return;
      const event = frame.events[0] as { id: string };
      if (event.id === "bad") send(conn, published(frame.id, [{ error: { code: "rate_limited", message: "slow!" } }]));
      else send(conn, published(frame.id, [{ seq: 7, duplicate: false }]));
    };
    // Made together, they ride one socket; each is settled by its own answer.
    const ok = client.publish("a", { type: "Thing", id: "good", data: { n: 1 } });
    const refused = client.publish("a", { type: "Thing", id: "bad" });
    await expect(ok).resolves.toEqual({ id: "good", source: "urn:event-mesh:browser", seq: 7, duplicate: false });
    await expect(refused).rejects.toMatchObject({ name: "PublishError", code: "rate_limited", message: "slow!" });
    expect(connections).toHaveLength(1);
    expect(connections[0].path).toBe("/v1/ws");
    expect(publishes(connections[0])).toEqual([
      {
        type: "publish",
        id: "p1",
        topic: "a",
        events: [{ type: "Thing", id: "good", data: { n: 1 }, source: "urn:event-mesh:browser", specversion: "1.0" }],
      },
      {
        type: "publish",
        id: "p2",
        topic: "a",
        events: [{ type: "Thing", id: "bad", source: "urn:event-mesh:browser", specversion: "1.0" }],
      },
    ]);
    // Nothing to follow and nothing unanswered: the socket is let go.
    expect(await connections[0].closed).toBe(1000);
  });

  it("sends an unanswered publish again after a reconnect, the same event with the same id", async () => {
    respond = replayTo({ a: 0 });
    const sub = subscribe("a");
    await until(() => sub.subscription.state === "live", "live");
    const result = client.publish("a", { type: "Thing", data: 1 });
    await until(() => publishes(connections[0]).length === 1, "first send");
    // The answer is lost with the connection.
    connections[0].socket.terminate();
    respond = (conn, frame) => {
      replayTo({ a: 1 })(conn, frame);
      if (frame.type === "publish") send(conn, published(frame.id, [{ seq: 1, duplicate: true }]));
    };
    await expect(result).resolves.toMatchObject({ seq: 1, duplicate: true });
    expect(connections).toHaveLength(2);
    expect(publishes(connections[1])).toEqual(publishes(connections[0]));
    // The resent frame follows the topic's subscribe on the new socket.
    expect(clientFrames(connections[1]).map((frame) => frame.type)).toEqual(["subscribe", "publish"]);
  });

  it("refuses unanswered publishes when the socket closes for good or the client closes", async () => {
    respond = replayTo({ a: 0 });
    const sub = subscribe("a");
    await until(() => sub.subscription.state === "live", "live");
    const lost = client.publish("a", { type: "Thing" });
    await until(() => publishes(connections[0]).length === 1, "sent");
    connections[0].socket.send(JSON.stringify({ type: "error", code: "token_revoked", message: "revoked!" }));
    connections[0].socket.close(4401, "revoked");
    await expect(lost).rejects.toMatchObject({ code: "token_revoked", message: "revoked!" });

    const other = makeClient();
    respond = () => {};
    const pending = other.publish("a", { type: "Thing" });
    await until(() => connections.length === 2 && publishes(connections[1]).length === 1, "sent on the other client");
    other.close();
    await expect(pending).rejects.toMatchObject({ code: "network_error" });
  });
});

describe("presence on the shared connection", () => {
  it("follows and enters beside the topic's events, enters again with the same session after a reconnect, leaves on close", async () => {
    respond = (conn, frame) => {
      replayTo({ room: 1 })(conn, frame);
      if (frame.type !== "presence.follow") return;
      const list = { type: "presence", topic: "room", page: 0, members: [{ member: "u1", data: 1 }], more: false };
      send(
        conn,
        JSON.stringify(list),
        JSON.stringify({ type: "occupancy", topic: "room", members: 1, connections: 1 }),
      );
    };
    const views: boolean[] = [];
    const sub = subscribe("room");
    const presence = client.presence("room", {
      enter: { data: { n: 1 } },
      onChange: (view) => views.push(view.synced),
    });
    await until(() => presence.view.synced && sub.subscription.state === "live", "synced and live");
    expect(connections).toHaveLength(1);
    expect(presence.view).toEqual({
      members: [{ member: "u1", data: 1 }],
      occupancy: { members: 1, connections: 1 },
      synced: true,
    });
    const presenceFrames = (conn: Connection) =>
      clientFrames(conn).filter((frame) => frame.type.startsWith("presence"));
    const [follow, enter] = presenceFrames(connections[0]);
    expect(follow).toEqual({ type: "presence.follow", topic: "room", mode: "members" });
    expect(enter).toMatchObject({ type: "presence.enter", topic: "room", data: { n: 1 } });
    const session = (enter as { session?: string }).session;
    expect(session).toMatch(/^[0-9a-f]{32}$/);

    connections[0].socket.terminate();
    await until(() => connections.length === 2 && presence.view.synced, "synced again on a new socket");
    expect(views).toContain(false);
    expect(presenceFrames(connections[1])).toEqual([follow, enter]);

    presence.update({ n: 2 });
    presence.update({ n: 2 });
    presence.close();
    await until(() => presenceFrames(connections[1]).length === 5, "update, leave, unfollow");
    expect(presenceFrames(connections[1]).slice(2)).toEqual([
      { type: "presence.update", topic: "room", data: { n: 2 } },
      { type: "presence.leave", topic: "room" },
      { type: "presence.unfollow", topic: "room" },
    ]);
    // The socket stays for the topic's events; it closes with its last user.
    sub.subscription.close();
    expect(await connections[1].closed).toBe(1000);
  });

  it("enters again a second after the server could not reach the topic's presence (overloaded)", async () => {
    let refusals = 0;
    respond = (conn, frame) => {
      if (frame.type !== "presence.enter" || refusals > 0) return;
      refusals += 1;
      const refused = { type: "presence.refused", topic: "room", code: "overloaded", message: "try again" };
      send(conn, JSON.stringify(refused));
    };
    const errors: SubscriptionError[] = [];
    client.presence("room", { enter: { data: 1 }, onError: (error) => errors.push(error) });
    const enters = () => clientFrames(connections[0] ?? { received: [] }).filter((f) => f.type === "presence.enter");
    await until(() => connections.length === 1 && enters().length === 2, "a second enter");
    expect(errors).toMatchObject([{ code: "overloaded", terminal: false }]);
    expect(enters()[1]).toEqual(enters()[0]);
  });
});
