import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import type { ServerFrame } from "../../../protocol/frames.ts";
import type { SubscriptionView } from "../../../protocol/subscriptions.ts";
import { checkDeliveries, seqsUpTo, violationsOf } from "../../support/invariants.ts";
import { meshFetch } from "../../workers/support/mesh-fetch.ts";
import { collect, type Socket } from "../../workers/support/socket.ts";
import { ReceiverEndpoint } from "../../workers/webhook-receiver-client.ts";
import { effectSeqs, planned } from "./support/flaky-consumer.ts";

// Scenario 2: the topic's Durable Object is aborted (ctx.abort, as an eviction or a crash ends it) in
// the middle of delivering to a webhook, a queue and live sockets. Every subscriber must still
// end with every event, in order where order is promised, once after dedup. The sockets are held by
// hubs, not by the topic's object: they stay open through its aborts and must see every event
// exactly once, in order, with no client-side dedup needed (hub aborts: hub-abort.test.ts).
const stub = (topic: string) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));
const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** Ends the topic's object the hard way (ctx.abort): its in-memory state and in-flight work are gone. */
async function abortObject(topic: string): Promise<void> {
  await runInDurableObject(stub(topic), (_instance, state) => {
    try {
      state.abort("reliability test: abort mid-delivery");
    } catch {
      // abort() throws into its caller once the object is broken.
    }
  }).catch(() => undefined);
}

/** A live subscriber that reconnects from its last seq whenever its socket ends, as the client does. */
class Follower {
  /** Every event seq received, in arrival order, repeats included. */
  readonly received: number[] = [];
  readonly seqs: number[] = [];
  connections = 0;
  private socket: Socket | null = null;

  constructor(private readonly topic: string) {}

  async connect(): Promise<void> {
    this.connections += 1;
    const after = this.seqs.length === 0 ? 0 : Math.max(...this.seqs);
    const res = await meshFetch(`/v1/topics/${this.topic}/ws?after=${after}`, { headers: { upgrade: "websocket" } });
    const socket = collect(res);
    this.socket = socket;
    socket.ws.addEventListener("message", (e) => {
      const frame = JSON.parse(String(e.data)) as ServerFrame;
      if (frame.type === "event") this.received.push(frame.event.seq);
      // Client-side dedup: anything at or below the last seq seen is a replay overlap.
      if (frame.type === "event" && frame.event.seq > Math.max(0, ...this.seqs)) {
        this.seqs.push(frame.event.seq);
      }
    });
    await socket.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
  }

  /** True when the socket was closed under it (the abort); it then connects again. */
  async ensureOpen(): Promise<boolean> {
    if (this.socket?.ws.readyState === WebSocket.OPEN) return false;
    await this.connect();
    return true;
  }

  close(): void {
    this.socket?.ws.close(1000);
  }
}

it("loses nothing when the topic's object is aborted mid-delivery, again and again", async () => {
  const topic = `abort-${crypto.randomUUID().slice(0, 8)}`;
  // A slow receiver, so each abort lands while a webhook request is in flight.
  const hook = await ReceiverEndpoint.create("abort", { delayMs: 150 });
  const putHook = await meshFetch(
    `/v1/topics/${topic}/subscriptions/hook`,
    json("PUT", {
      target: { type: "webhook", url: hook.url, timeoutMs: 500 },
      start: "earliest",
      batchSize: 3,
      retry: { maxAttempts: 100, firstDelayMs: 1, maxDelayMs: 10 },
    }),
  );
  expect(putHook.status).toBe(201);
  const putQueue = await meshFetch(
    `/v1/topics/${topic}/subscriptions/queue`,
    json("PUT", { target: { type: "queue", queue: "DELIVERY_QUEUE" }, start: "earliest", batchSize: 4 }),
  );
  expect(putQueue.status).toBe(201);
  const followers = [new Follower(topic), new Follower(topic), new Follower(topic)];
  for (const f of followers) await f.connect();

  const ROUNDS = 4;
  const PER_ROUND = 12;
  let aborts = 0;
  let reconnects = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const res = await meshFetch(`/v1/topics/${topic}/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(
        Array.from({ length: PER_ROUND }, (_, i) => ({
          id: `r${round}-${i}`,
          source: "/abort",
          specversion: "1.0",
          ...planned("ok", round * PER_ROUND + i),
        })),
      ),
    });
    expect(res.status).toBe(201);
    // Deliver, and abort the object while the receiver is still holding a request.
    const before = (await hook.requests()).length;
    const alarm = runDurableObjectAlarm(stub(topic)).catch(() => "aborted");
    await vi.waitFor(async () => expect((await hook.requests()).length).toBeGreaterThan(before), {
      timeout: 10_000,
      interval: 10,
    });
    await abortObject(topic);
    aborts += 1;
    await alarm;
    for (const f of followers) if (await f.ensureOpen()) reconnects += 1;
  }

  // The log is whole; every path catches up by itself (alarms driven, never slept for).
  const head = ROUNDS * PER_ROUND;
  const view = async (name: string) =>
    (await meshFetch(`/v1/topics/${topic}/subscriptions/${name}`)).json<SubscriptionView>();
  await vi.waitFor(
    async () => {
      for (const f of followers) await f.ensureOpen();
      await runDurableObjectAlarm(stub(topic));
      expect((await view("hook")).cursor).toBe(head);
      expect((await view("queue")).cursor).toBe(head);
      expect(new Set(effectSeqs(topic)).size).toBe(head);
      for (const f of followers) expect(f.seqs.length).toBe(head);
    },
    { timeout: 40_000, interval: 200 },
  );
  for (const f of followers) f.close();

  const accepted = await hook.acceptedSeqs();
  console.log(
    `do-abort: ${aborts} aborts mid-delivery, ${reconnects} socket reconnects; webhook took ${accepted.length} events for ${head} seqs, queue consumer ${effectSeqs(topic).length}`,
  );
  // The aborts ended the topic's object, not the sockets: their hubs held them and caught up.
  expect(reconnects).toBe(0);
  for (const f of followers) expect(f.connections).toBe(1);
  expect(
    violationsOf(
      checkDeliveries("webhook", accepted, { expected: seqsUpTo(head) }),
      checkDeliveries("queue consumer", effectSeqs(topic), { expected: seqsUpTo(head), ordered: false }),
      ...followers.map((f, i) => checkDeliveries(`socket ${i}`, f.seqs, { expected: seqsUpTo(head) })),
    ),
  ).toEqual([]);
  // Contiguous and once each as received, before any dedup of the client's.
  for (const f of followers) expect(f.received).toEqual(seqsUpTo(head));
});
