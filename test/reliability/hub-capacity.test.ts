import { afterAll, beforeAll, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { createMeshClient } from "../../client/mesh-client.ts";
import type { SubscriptionError } from "../../client/subscription.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import { type ServerFrame, subscribeFrameText } from "../../protocol/frames.ts";
import { adminApi } from "../support/admin-api.ts";
import { LocalServer } from "../support/local-server.ts";
import { subscriberToken } from "../support/subscriber-token.ts";

// Issue 15's proof "a full hub refusing and the client landing on another", through a real local
// server whose hubs are tiny: two hubs of three sockets each, and the Worker tries both.
const server = new LocalServer({ vars: { HUB_MAX_SOCKETS: "3", HUB_POOL_SIZE: "2", HUB_CONNECT_ATTEMPTS: "2" } });
const api = adminApi(server);
beforeAll(async () => {
  await server.start();
}, 60_000);
afterAll(async () => {
  await server.dispose();
});

const TOPIC = "cap.scores";

interface RawSocket {
  ws: WebSocket;
  /** x-mesh-hub of the 101; empty on a refusal, which names no hub. */
  hub: string;
  frames: ServerFrame[];
  closed: Promise<number>;
}

/** A `/v1/ws` socket with routing key TOPIC, as the shared client opens it; resolves once open. */
function openRaw(token: string): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}/v1/ws?batch=true&key=${TOPIC}&token=${token}`);
    const socket: RawSocket = {
      ws,
      hub: "",
      frames: [],
      closed: new Promise((done) => ws.once("close", (code) => done(code))),
    };
    ws.once("upgrade", (res) => {
      socket.hub = String(res.headers["x-mesh-hub"] ?? "");
    });
    ws.on("message", (data) => socket.frames.push(JSON.parse(String(data)) as ServerFrame));
    ws.once("open", () => resolve(socket));
    ws.once("error", reject);
  });
}

const seqsOf = (socket: RawSocket) =>
  socket.frames.flatMap((f) =>
    f.type === "events" ? f.events.map((e) => e.seq) : f.type === "event" ? [f.event.seq] : [],
  );

it("fills one hub, then the other, refuses the next with overloaded and 1013, and the client lands once a socket leaves", async () => {
  const token = await subscriberToken(["cap.*"]);
  const sockets: RawSocket[] = [];
  for (let i = 0; i < 6; i += 1) sockets.push(await openRaw(token));
  const hubs = sockets.map((s) => s.hub);
  expect(hubs[0]).toMatch(/^hub-[01]$/);
  const other = hubs[0] === "hub-0" ? "hub-1" : "hub-0";
  expect(hubs).toEqual([hubs[0], hubs[0], hubs[0], other, other, other]);

  // Both hubs are full: the seventh is refused on the socket, with a delay, and closed 1013.
  const seventh = await openRaw(token);
  expect(seventh.hub).toBe("");
  expect(await seventh.closed).toBe(CLOSE.tryAgainLater);
  expect(seventh.frames).toEqual([
    { type: "error", code: "overloaded", message: expect.any(String), retryAfterSeconds: expect.any(Number) },
  ]);
  const retryAfterSeconds = (seventh.frames[0] as { retryAfterSeconds: number }).retryAfterSeconds;
  expect(retryAfterSeconds).toBeGreaterThan(0);

  // Every socket that landed is served: the first of each hub follows the topic.
  for (const s of [sockets[0], sockets[3]]) s.ws.send(subscribeFrameText({ topic: TOPIC, after: 0 }));
  await api.publish(TOPIC, [{ id: "e1", source: "/cap", type: "Goal", specversion: "1.0" }]);
  await vi.waitFor(() => expect([seqsOf(sockets[0]), seqsOf(sockets[3])]).toEqual([[1], [1]]), { timeout: 10_000 });

  // The real client, while every hub is full: refused, it waits at least what the server asked.
  const seqs: number[] = [];
  const errors: (SubscriptionError & { at: number })[] = [];
  const client = createMeshClient({
    url: server.url,
    WebSocket,
    connection: "shared",
    token: () => subscriberToken(["cap.*"]),
    backoff: { firstDelayMs: 50, maxDelayMs: 500 },
    heartbeat: { intervalMs: 1_000, timeoutMs: 4_000 },
  });
  const subscription = client.subscribe(TOPIC, {
    onEvent: (event) => seqs.push(event.seq),
    onError: (error) => errors.push({ ...error, at: Date.now() }),
  });
  await vi.waitFor(() => expect(errors.map((e) => e.code)).toContain("overloaded"), { timeout: 10_000 });
  const refusedAt = errors[0].at;
  expect(errors[0]).toMatchObject({ code: "overloaded", terminal: false });
  expect(subscription.state).not.toBe("closed");

  // One socket of the first hub leaves: the client lands there on its next try.
  sockets[1].ws.close(1000);
  await sockets[1].closed;
  await vi.waitFor(() => expect(subscription.state).toBe("live"), { timeout: (retryAfterSeconds + 10) * 1000 });
  const landedAfterMs = Date.now() - refusedAt;
  expect(landedAfterMs).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 100);
  expect(seqs).toEqual([1]);
  await api.publish(TOPIC, [{ id: "e2", source: "/cap", type: "Goal", specversion: "1.0" }]);
  await vi.waitFor(() => expect(seqs).toEqual([1, 2]), { timeout: 10_000 });
  console.log(
    `hub-capacity: hubs ${hubs.join(",")}; seventh refused (retry after ${retryAfterSeconds} s); the client landed ${landedAfterMs} ms after its refusal`,
  );
  client.close();
  for (const s of sockets) s.ws.close(1000);
});
