import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { memoryStorage } from "../../client/cursor-storage.ts";
import { createMeshClient, type MeshClientOptions } from "../../client/mesh-client.ts";
import type { Subscription, SubscriptionError } from "../../client/subscription.ts";
import type { SubscriptionState } from "../../client/subscription-state.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import { ADMIN_AUTH, subscriberToken } from "../support/credentials.ts";
import { CutProxy } from "../support/cut-proxy.ts";
import { LocalServer } from "../support/local-server.ts";

// Small replay pages, so a resume after a cut replays over several pages.
const server = new LocalServer({ vars: { REPLAY_PAGE_SIZE: "50" } });
beforeAll(() => server.start());
afterAll(() => server.dispose());

const FAST: Partial<MeshClientOptions> = {
  WebSocket,
  backoff: { firstDelayMs: 50, maxDelayMs: 400 },
  heartbeat: { intervalMs: 1_000, timeoutMs: 3_000 },
  connectionTimeoutMs: 3_000,
};

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes events `from..to` (data `{ n: seq }`) in batches of at most 100, checking each seq. */
async function publish(topic: string, from: number, to: number): Promise<void> {
  for (let start = from; start <= to; start += 100) await publishBatch(topic, start, Math.min(to, start + 99));
}

async function publishBatch(topic: string, from: number, to: number): Promise<void> {
  const batch = range(from, to).map((n) => ({
    id: `e${n}`,
    source: "e2e-live",
    type: "Tick",
    specversion: "1.0",
    data: { n },
  }));
  const res = await fetch(`${server.url}/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json", ...ADMIN_AUTH },
    body: JSON.stringify(batch),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { events: { seq: number }[] };
  expect(body.events.map((e) => e.seq)).toEqual(range(from, to));
}

/** A subscriber that records what the app sees: each event's seq and every state change. */
function follow(
  url: string,
  topic: string,
  extra: { storage?: ReturnType<typeof memoryStorage>; after?: number } = {},
) {
  const seqs: number[] = [];
  const states: SubscriptionState[] = [];
  const errors: SubscriptionError[] = [];
  const client = createMeshClient({ url, token: () => subscriberToken(), ...FAST });
  const subscription: Subscription = client.subscribe(topic, {
    ...extra,
    onEvent: (event) => {
      expect(event.data).toEqual({ n: event.seq });
      seqs.push(event.seq);
    },
    onStateChange: (state) => states.push(state),
    onError: (error) => errors.push(error),
  });
  const until = async (predicate: () => boolean, label: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${label}: ${seqs.length} events, last ${seqs.at(-1)}, state ${subscription.state}`,
        );
      }
      await sleep(20);
    }
  };
  return { seqs, states, errors, subscription, until };
}

describe("live resume with the real client in Node", () => {
  it("ends with exactly 1..2,000 once each, in order, while its connection is cut again and again", async () => {
    const proxy = await new CutProxy(Number(new URL(server.url).port)).start();
    const sub = follow(proxy.url, "cuts");
    await sub.until(() => sub.subscription.state === "live", "live");

    const cuts = { server: 0, network: 0, client: 0 };
    let publishing = true;
    const cutter = (async () => {
      for (let i = 0; publishing; i++) {
        await sleep(120);
        if (i % 3 === 0) cuts.server += proxy.closeFromServer() > 0 ? 1 : 0;
        else if (i % 3 === 1) cuts.network += proxy.reset() > 0 ? 1 : 0;
        else if (sub.subscription.state !== "reconnecting") {
          sub.subscription.reconnect();
          cuts.client += 1;
        }
      }
    })();
    for (let from = 1; from <= 2_000; from += 10) {
      await publish("cuts", from, from + 9);
      await sleep(15);
    }
    publishing = false;
    await cutter;
    await sub.until(() => sub.seqs.length >= 2_000 && sub.subscription.state === "live", "2,000 events");

    expect(sub.seqs).toEqual(range(1, 2_000));
    expect(sub.subscription.lastSeq).toBe(2_000);
    expect(cuts.server).toBeGreaterThanOrEqual(5);
    expect(cuts.network).toBeGreaterThanOrEqual(5);
    expect(cuts.client).toBeGreaterThanOrEqual(5);
    // Every cut was followed by a resume: one replay per connection.
    expect(sub.states.filter((s) => s === "replaying").length).toBeGreaterThanOrEqual(15);
    expect(sub.errors.filter((e) => e.terminal)).toEqual([]);

    // A late subscriber replays all 2,000 (40 pages) while being cut every 40 ms.
    const late = follow(proxy.url, "cuts");
    let lateCuts = 0;
    const deadline = Date.now() + 60_000;
    while (late.seqs.length < 2_000 || late.subscription.state !== "live") {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(40);
      if (late.subscription.state === "replaying" && late.seqs.length < 2_000) {
        lateCuts += proxy.reset() > 0 ? 1 : 0;
      }
    }
    expect(late.seqs).toEqual(range(1, 2_000));
    expect(lateCuts).toBeGreaterThanOrEqual(1);

    sub.subscription.close();
    late.subscription.close();
    await proxy.close();
  });

  it("continues exactly across restarts of the local server, and a new subscriber resumes from stored state", async () => {
    const storage = memoryStorage();
    const sub = follow(server.url, "restarts", { storage });
    await sub.until(() => sub.subscription.state === "live", "live");
    await publish("restarts", 1, 700);
    await sub.until(() => sub.seqs.length >= 300, "some events before the restart");
    await server.restart();
    await publish("restarts", 701, 1_400);
    await server.restart();
    await publish("restarts", 1_401, 2_000);
    await sub.until(() => sub.seqs.length >= 2_000 && sub.subscription.state === "live", "2,000 events");
    expect(sub.seqs).toEqual(range(1, 2_000));
    expect(sub.states.filter((s) => s === "reconnecting").length).toBeGreaterThanOrEqual(2);
    sub.subscription.close();
    expect(sub.subscription.state).toBe("closed");

    // Like a page reload: a new subscription with the same storage continues after 2,000.
    expect(JSON.parse(storage.entries.get("event-mesh:restarts") ?? "{}")).toMatchObject({ lastSeq: 2_000 });
    await publish("restarts", 2_001, 2_050);
    const next = follow(server.url, "restarts", { storage });
    await next.until(() => next.seqs.length >= 50 && next.subscription.state === "live", "2,001..2,050");
    await publish("restarts", 2_051, 2_060);
    await next.until(() => next.seqs.length >= 60, "2,051..2,060");
    expect(next.seqs).toEqual(range(2_001, 2_060));
    next.subscription.close();
  });

  it("still receives the next event after staying idle long enough for the Durable Object to hibernate", async () => {
    const sub = follow(server.url, "idle");
    await sub.until(() => sub.subscription.state === "live", "live");
    await publish("idle", 1, 1);
    await sub.until(() => sub.seqs.length === 1, "event 1");
    // Local Durable Objects hibernate after about 10 s without events; heartbeats (every second
    // here) are answered by the runtime and do not keep it awake.
    await sleep(15_000);
    expect(sub.subscription.state).toBe("live");
    await publish("idle", 2, 2);
    await sub.until(() => sub.seqs.length === 2, "event 2", 10_000);
    expect(sub.seqs).toEqual([1, 2]);
    expect(sub.states).toEqual(["replaying", "live"]);
    sub.subscription.close();
  });

  it("stops on a terminal close code and reports it", async () => {
    await publish("terminal", 1, 3);
    const sub = follow(server.url, "terminal", { after: 10 });
    await sub.until(() => sub.subscription.state === "closed", "closed");
    expect(sub.errors).toEqual([
      {
        code: "cursor_ahead",
        message: expect.stringContaining("after=10"),
        closeCode: CLOSE.cursorAhead,
        terminal: true,
      },
    ]);
    await sleep(1_000);
    expect(sub.states).toEqual(["replaying", "closed"]);
    expect(sub.seqs).toEqual([]);
  });
});
