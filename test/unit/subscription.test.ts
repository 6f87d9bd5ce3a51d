import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import { memoryStorage } from "../../client/cursor-storage.ts";
import type { MeshClient, MeshClientOptions } from "../../client/mesh-client.ts";
import type { SubscribeOptions, Subscription, SubscriptionError } from "../../client/subscription.ts";
import type { SubscriptionState } from "../../client/subscription-state.ts";
import type { GapFrame } from "../../protocol/frames.ts";
import { scriptedClient } from "../support/scripted-client.ts";

/**
 * The client's wiring (partysocket, resume query, dedup, resync, close codes, heartbeat, storage)
 * against a scripted WebSocket server in Node. The real mesh never sends holes or duplicates, so
 * these cases need a server that misbehaves on purpose; the e2e tests cover the real server.
 */

interface Connection {
  query: URLSearchParams;
  socket: WebSocket;
  received: string[];
  closed: Promise<number>;
}

type Script = (conn: Connection) => void;

let wss: WebSocketServer;
let connections: Connection[];
let scripts: Script[];
let client: MeshClient;

const frames = {
  event: (seq: number, type = "Thing") =>
    JSON.stringify({
      type: "event",
      topic: "t",
      event: { id: `e${seq}`, source: "s", specversion: "1.0", type, time: "2026-01-01T00:00:00Z", seq: seq },
    }),
  caughtUp: (head: number, epoch = "e1") => JSON.stringify({ type: "caught-up", topic: "t", head, epoch }),
  gap: (after: number, oldest: number, epoch = "e1", reason: GapFrame["reason"] = "retention") =>
    JSON.stringify({ type: "gap", topic: "t", after, oldest, epoch, reason }),
  error: (code: string, message = code) => JSON.stringify({ type: "error", code, message }),
};

const send = (conn: Connection, ...texts: string[]) => {
  for (const text of texts) conn.socket.send(text);
};

beforeEach(async () => {
  connections = [];
  scripts = [];
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  wss.on("connection", (socket, request) => {
    const url = new URL(request.url ?? "/", "http://x");
    expect(url.pathname).toBe("/v1/topics/t/ws");
    const received: string[] = [];
    socket.on("message", (data) => received.push(String(data)));
    const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
    const conn: Connection = { query: url.searchParams, socket, received, closed };
    connections.push(conn);
    (scripts[connections.length - 1] ?? (() => {}))(conn);
  });
  client = makeClient();
});

afterEach(async () => {
  client.close();
  for (const conn of connections) conn.socket.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

function makeClient(extra: Partial<MeshClientOptions> = {}): MeshClient {
  // This file scripts the one-topic socket; test/unit/mesh-connection.test.ts the shared one.
  return scriptedClient(wss, { connection: "own", ...extra });
}

function subscribe(options: Partial<SubscribeOptions> = {}, on: MeshClient = client) {
  const seqs: number[] = [];
  const states: SubscriptionState[] = [];
  const errors: SubscriptionError[] = [];
  const gaps: GapFrame[] = [];
  const subscription: Subscription = on.subscribe("t", {
    onEvent: (event) => seqs.push(event.seq),
    onStateChange: (state) => states.push(state),
    onError: (error) => errors.push(error),
    onGap: (gap) => gaps.push(gap),
    ...options,
  });
  return { seqs, states, errors, gaps, subscription };
}

async function until(predicate: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("resume and ordering", () => {
  it("connects with after=0 by default and delivers replay then live events", async () => {
    scripts = [(c) => send(c, frames.event(1), frames.event(2), frames.caughtUp(2), frames.event(3))];
    const sub = subscribe();
    await until(() => sub.seqs.length === 3, "3 events");
    expect(connections[0].query.get("after")).toBe("0");
    expect(connections[0].query.has("types")).toBe(false);
    expect(sub.states).toEqual(["replaying", "live"]);
    expect(sub.subscription.lastSeq).toBe(3);
    expect(sub.subscription.epoch).toBe("e1");
  });

  it("asks for batched frames and delivers an events frame's events in order, resyncing at a hole inside one", async () => {
    const events = (...seqs: number[]) =>
      JSON.stringify({ type: "events", topic: "t", events: seqs.map((seq) => JSON.parse(frames.event(seq)).event) });
    scripts = [
      (c) => send(c, events(1, 2, 3), frames.caughtUp(3), events(4, 6, 7)),
      (c) => send(c, events(5, 6), frames.caughtUp(6)),
    ];
    const sub = subscribe();
    await until(() => sub.subscription.lastSeq === 6 && sub.subscription.state === "live", "seq 6, live");
    expect(connections[0].query.get("batch")).toBe("true");
    expect(sub.seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(connections[1].query.get("after")).toBe("4");
  });

  it("answers each mark frame with ack:<id> once the events before it are delivered", async () => {
    const mark = (id: string) => JSON.stringify({ type: "mark", id });
    scripts = [(c) => send(c, frames.event(1), mark("00000000000000a1"), frames.event(2), mark("00000000000000a2"))];
    const sub = subscribe();
    await until(() => connections[0]?.received.length === 2, "two acks");
    expect(connections[0].received).toEqual(["ack:00000000000000a1", "ack:00000000000000a2"]);
    expect(sub.seqs).toEqual([1, 2]);
  });

  it("reconnects from lastSeq on a hole instead of delivering out of order", async () => {
    scripts = [
      (c) => send(c, frames.event(1), frames.event(2), frames.event(4), frames.event(5)),
      (c) => send(c, frames.event(3), frames.event(4), frames.caughtUp(4)),
    ];
    const sub = subscribe();
    await until(() => sub.subscription.state === "live", "live");
    expect(sub.seqs).toEqual([1, 2, 3, 4]);
    expect(connections[1].query.get("after")).toBe("2");
    expect(sub.states).toEqual(["replaying", "reconnecting", "replaying", "live"]);
    // The old connection was closed by the client.
    expect(await connections[0].closed).toBe(1000);
  });

  it("drops events at or below lastSeq, across reconnects too", async () => {
    scripts = [
      (c) => {
        send(
          c,
          frames.event(1),
          frames.event(2),
          frames.event(2),
          frames.event(1),
          frames.event(3),
          frames.caughtUp(3),
        );
        setTimeout(() => c.socket.close(1001), 20);
      },
      (c) => send(c, frames.event(2), frames.event(3), frames.event(4), frames.caughtUp(4)),
    ];
    const sub = subscribe();
    await until(() => connections.length === 2 && sub.subscription.state === "live", "second live");
    expect(connections[1].query.get("after")).toBe("3");
    expect(connections[1].query.get("epoch")).toBe("e1");
    expect(sub.seqs).toEqual([1, 2, 3, 4]);
  });

  it("resynchronises when caught-up names a head beyond the last event", async () => {
    scripts = [
      (c) => send(c, frames.event(1), frames.caughtUp(3)),
      (c) => send(c, frames.event(2), frames.event(3), frames.caughtUp(3)),
    ];
    const sub = subscribe();
    await until(() => sub.subscription.state === "live", "live");
    expect(connections[1].query.get("after")).toBe("1");
    expect(sub.seqs).toEqual([1, 2, 3]);
  });

  it("lets a filtered subscription skip seqs and move up to the head", async () => {
    scripts = [
      (c) => {
        send(c, frames.event(2, "A"), frames.event(7, "A"), frames.caughtUp(10));
        setTimeout(() => c.socket.close(1013), 20);
      },
      (c) => send(c, frames.caughtUp(10)),
    ];
    const sub = subscribe({ types: ["A"] });
    await until(() => connections.length === 2 && sub.subscription.state === "live", "second live");
    expect(sub.seqs).toEqual([2, 7]);
    expect(Object.fromEntries(connections[1].query)).toMatchObject({ after: "10", types: "A", epoch: "e1" });
  });

  it("sends its CloudEvents filter in the query on every connect and skips seqs as a filtered subscription", async () => {
    const filter = [{ prefix: { subject: "orders/" } }];
    scripts = [
      (c) => {
        send(c, frames.event(3), frames.caughtUp(8));
        setTimeout(() => c.socket.close(1013), 20);
      },
      (c) => send(c, frames.event(9), frames.caughtUp(9)),
    ];
    const sub = subscribe({ filter });
    await until(() => connections.length === 2 && sub.subscription.state === "live", "second live");
    expect(sub.seqs).toEqual([3, 9]);
    for (const conn of connections) expect(conn.query.get("filter")).toBe(JSON.stringify(filter));
    expect(connections[1].query.get("after")).toBe("8");
  });

  it("reports a gap and continues from the oldest retained event", async () => {
    scripts = [(c) => send(c, frames.gap(0, 50), frames.event(50), frames.event(51), frames.caughtUp(51))];
    const sub = subscribe();
    await until(() => sub.subscription.state === "live", "live");
    expect(sub.gaps).toEqual([expect.objectContaining({ after: 0, oldest: 50, reason: "retention" })]);
    expect(sub.seqs).toEqual([50, 51]);
  });

  it("starts after the given seq", async () => {
    scripts = [(c) => send(c, frames.event(8), frames.caughtUp(8))];
    const sub = subscribe({ after: 7 });
    await until(() => sub.subscription.state === "live", "live");
    expect(connections[0].query.get("after")).toBe("7");
    expect(sub.seqs).toEqual([8]);
  });
});

describe("close codes and errors", () => {
  it("stops on a terminal close code and reports the server's error once", async () => {
    scripts = [
      (c) => {
        send(c, frames.error("forbidden", "not allowed"));
        c.socket.close(4403, "forbidden");
      },
    ];
    const sub = subscribe();
    await until(() => sub.subscription.state === "closed", "closed");
    await sleep(200);
    expect(connections).toHaveLength(1);
    expect(sub.errors).toEqual([{ code: "forbidden", message: "not allowed", closeCode: 4403, terminal: true }]);
    expect(sub.states).toEqual(["replaying", "closed"]);
  });

  it("reconnects after a retryable close code", async () => {
    scripts = [(c) => c.socket.close(1011), (c) => c.socket.close(4500), (c) => send(c, frames.caughtUp(0))];
    const sub = subscribe();
    await until(() => sub.subscription.state === "live", "live");
    expect(connections).toHaveLength(3);
    expect(sub.errors).toEqual([]);
  });

  it("waits at least the delay a full or overloaded server asks for, then reconnects", async () => {
    const opened: number[] = [];
    scripts = [
      (c) => {
        opened.push(Date.now());
        send(c, JSON.stringify({ type: "error", code: "overloaded", message: "full", retryAfterSeconds: 1 }));
        c.socket.close(1013, "overloaded");
      },
      (c) => {
        opened.push(Date.now());
        send(c, frames.caughtUp(0));
      },
    ];
    const sub = subscribe();
    await until(() => sub.subscription.state === "live", "live");
    // The backoff alone (10-20 ms here) would have come back at once.
    expect(opened[1] - opened[0]).toBeGreaterThanOrEqual(950);
    expect(sub.errors).toEqual([{ code: "overloaded", message: "full", terminal: false }]);
  });

  it("reports a throwing handler and keeps going", async () => {
    scripts = [(c) => send(c, frames.event(1), frames.event(2), frames.caughtUp(2))];
    const seen: number[] = [];
    const sub = subscribe({
      onEvent: (event) => {
        seen.push(event.seq);
        if (event.seq === 1) throw new Error("boom");
      },
    });
    await until(() => sub.subscription.state === "live", "live");
    expect(seen).toEqual([1, 2]);
    expect(sub.errors).toEqual([{ code: "handler_error", message: "Error: boom", terminal: false }]);
  });

  it("closes for good on close()", async () => {
    scripts = [(c) => send(c, frames.caughtUp(0))];
    const sub = subscribe();
    await until(() => sub.subscription.state === "live", "live");
    sub.subscription.close();
    expect(await connections[0].closed).toBe(1000);
    await sleep(200);
    expect(connections).toHaveLength(1);
    expect(sub.states).toEqual(["replaying", "live", "closed"]);
  });

  it("refuses a bad topic name or start position before connecting", () => {
    expect(() => client.subscribe("no/slashes", { onEvent: () => {} })).toThrow(TypeError);
    expect(() => client.subscribe("t", { after: -1, onEvent: () => {} })).toThrow(RangeError);
  });
});

describe("heartbeat", () => {
  it("pings, and replaces a connection that stopped answering", async () => {
    const beating = makeClient({ heartbeat: { intervalMs: 50, timeoutMs: 100 } });
    // The first server never answers pings; the second does.
    scripts = [
      (c) => send(c, frames.caughtUp(0)),
      (c) => {
        send(c, frames.caughtUp(0));
        c.socket.on("message", (data) => String(data) === "ping" && c.socket.send("pong"));
      },
    ];
    const sub = subscribe({}, beating);
    await until(() => connections.length === 2 && sub.subscription.state === "live", "second connection");
    expect(connections[0].received).toContain("ping");
    await sleep(500);
    expect(connections).toHaveLength(2);
    expect(connections[1].received.filter((m) => m === "ping").length).toBeGreaterThanOrEqual(3);
    beating.close();
  });
});

describe("stored position", () => {
  it("resumes from storage and writes each new position", async () => {
    const storage = memoryStorage();
    storage.set("event-mesh:t", JSON.stringify({ lastSeq: 7, epoch: "e1" }));
    scripts = [(c) => send(c, frames.event(8), frames.event(9), frames.caughtUp(9))];
    const sub = subscribe({ storage, after: 2 });
    await until(() => sub.subscription.state === "live", "live");
    expect(Object.fromEntries(connections[0].query)).toMatchObject({ after: "7", epoch: "e1" });
    expect(JSON.parse(storage.entries.get("event-mesh:t") ?? "")).toEqual({ lastSeq: 9, epoch: "e1" });
  });

  it("keeps writes to an async store in order, ending at the newest position", async () => {
    const writes: string[] = [];
    let stored: string | null = null;
    const storage = {
      get: async () => stored,
      set: async (_key: string, value: string) => {
        await sleep(Math.random() * 10);
        writes.push(value);
        stored = value;
      },
    };
    scripts = [(c) => send(c, ...Array.from({ length: 20 }, (_, i) => frames.event(i + 1)), frames.caughtUp(20))];
    const sub = subscribe({ storage });
    await until(() => sub.subscription.state === "live", "live");
    await until(() => stored !== null && JSON.parse(stored).lastSeq === 20, "last write");
    const seqs = writes.map((w) => JSON.parse(w).lastSeq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("reconnects at once, from lastSeq, on reconnect()", async () => {
    scripts = [(c) => send(c, frames.event(1), frames.caughtUp(1)), (c) => send(c, frames.caughtUp(1))];
    const sub = subscribe();
    await until(() => sub.subscription.state === "live", "live");
    sub.subscription.reconnect();
    await until(() => connections.length === 2 && sub.subscription.state === "live", "second live");
    expect(connections[1].query.get("after")).toBe("1");
    expect(sub.states).toEqual(["replaying", "live", "reconnecting", "replaying", "live"]);
  });
});

describe("tokens", () => {
  const b64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  /** A JWT-shaped token: the client reads `exp` and leaves checking it to the server. */
  const jwt = (n: number, expiresInMs: number) =>
    `${b64url('{"alg":"HS256"}')}.${b64url(JSON.stringify({ n, exp: (Date.now() + expiresInMs) / 1000 }))}.sig`;
  const authTexts = (conn: Connection) => conn.received.filter((text) => text.startsWith("auth:"));

  it("refreshes the open socket's token in band before it expires, again after each refresh", async () => {
    let minted = 0;
    // 1.1 s left: the refresh is due 1 s before expiry.
    const fetchToken = async () => jwt(++minted, 1_100);
    scripts = [
      (c) => {
        send(c, frames.caughtUp(0));
        c.socket.on("message", (data) => {
          if (String(data).startsWith("auth:"))
            send(c, JSON.stringify({ type: "token-refreshed", expiresAt: new Date(Date.now() + 1_100).toISOString() }));
        });
      },
    ];
    const sub = subscribe({ token: fetchToken });
    await until(() => connections.length > 0 && authTexts(connections[0]).length >= 2, "two refreshes");
    expect(connections).toHaveLength(1);
    const minting = (token: string) => JSON.parse(atob(token.split(".")[1])).n;
    expect(minting(connections[0].query.get("token") ?? "")).toBe(1);
    expect(authTexts(connections[0]).slice(0, 2).map(minting)).toEqual([2, 3]);
    expect(sub.errors).toEqual([]);
  });

  it("sends no refresh when the token function gives back a token that expires no later", async () => {
    const token = jwt(1, 1_100);
    let asked = 0;
    scripts = [(c) => send(c, frames.caughtUp(0))];
    const sub = subscribe({
      token: () => {
        asked += 1;
        return token;
      },
    });
    await until(() => asked === 2, "the refresh asked the token function");
    await sleep(50);
    expect(authTexts(connections[0])).toEqual([]);
    expect(sub.subscription.state).toBe("live");
  });
});
