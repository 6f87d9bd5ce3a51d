import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LogStore } from "../../durable-objects/log-store.ts";
import { Retention } from "../../durable-objects/retention.ts";
import type { PutSubscriptionResponse, SubscriptionView } from "../../protocol/subscriptions.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { publishCount } from "./topic-client.ts";
import { ReceiverEndpoint } from "./webhook-receiver-client.ts";

/**
 * A durable subscription that retention passes never skips events in silence: it meets a gap,
 * records it (from, to, when, why), logs it, and pauses there or goes on as its policy says.
 */
const uniqueTopic = (name: string) => `gaps-${name}-${crypto.randomUUID().slice(0, 8)}`;
const api = (path: string, init?: RequestInit) => meshFetch(`http://mesh${path}`, init);
const topicStub = (topic: string) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));

async function subscribe(topic: string, url: string, extra: Record<string, unknown>): Promise<PutSubscriptionResponse> {
  const res = await api(`/v1/topics/${topic}/subscriptions/lagging`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ target: { type: "webhook", url }, start: "earliest", ...extra }),
  });
  expect(res.status).toBe(201);
  return res.json();
}

const view = async (topic: string): Promise<SubscriptionView> =>
  (await api(`/v1/topics/${topic}/subscriptions/lagging`)).json();
const control = (topic: string, action: "pause" | "resume") =>
  api(`/v1/topics/${topic}/subscriptions/lagging/${action}`, { method: "POST" });

/** Retention on the topic's own log store, keeping only the newest `keep` events. */
async function retainNewest(topic: string, keep: number): Promise<void> {
  await runInDurableObject(topicStub(topic), (instance) => {
    const { store } = instance as unknown as { store: LogStore };
    const policy = {
      maxAgeSeconds: 604_800,
      maxEvents: keep,
      maxBytes: 1024 ** 3,
      dedupWindowSeconds: 86_400,
      protectSubscriptions: false,
    };
    new Retention(store, policy, () => null).step(Date.now());
  });
}

async function runAlarmsUntil(topic: string, done: () => Promise<boolean>): Promise<void> {
  for (let run = 0; run < 40 && !(await done()); run++) await runDurableObjectAlarm(topicStub(topic));
  expect(await done()).toBe(true);
}

/** Log lines the mesh wrote with this `msg`. */
function logged(spy: { mock: { calls: unknown[][] } }, msg: string): Record<string, unknown>[] {
  return spy.mock.calls
    .map(([text]) => {
      try {
        return JSON.parse(String(text)) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((line) => line.msg === msg);
}

afterEach(() => vi.restoreAllMocks());

describe("a subscription that retention passed", () => {
  it("by default pauses at the gap with its record, and goes on past it only when an operator resumes", async () => {
    const logs = vi.spyOn(console, "log");
    const topic = uniqueTopic("pause");
    const hook = await ReceiverEndpoint.create("gap-pause");
    const created = await subscribe(topic, hook.url, {});
    expect(created.onGap).toBe("pause");
    await control(topic, "pause");
    await publishCount(topic, 10, "/gaps-test");
    await retainNewest(topic, 4);
    await control(topic, "resume");

    await runAlarmsUntil(topic, async () => (await view(topic)).state === "paused");
    const paused = await view(topic);
    expect(paused).toMatchObject({ pausedReason: "gap", cursor: 0, gapCount: 1, delivered: 0 });
    expect(paused.gaps).toEqual([{ from: 1, to: 6, at: expect.any(String), reason: "retention" }]);
    expect(await hook.acceptedSeqs()).toEqual([]);
    expect(logged(logs, "subscription gap")).toEqual([
      expect.objectContaining({ topic, subscription: "lagging", from: 1, to: 6, policy: "pause" }),
    ]);

    // Resuming is the decision to accept the gap: delivery goes on from the oldest retained event.
    expect(await (await control(topic, "resume")).json()).toMatchObject({ state: "active", cursor: 6 });
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 4);
    expect(await hook.acceptedSeqs()).toEqual([7, 8, 9, 10]);
    expect(await view(topic)).toMatchObject({ cursor: 10, gapCount: 1, state: "active" });
  });

  it("with onGap continue records the gap and delivers what is left", async () => {
    const topic = uniqueTopic("continue");
    const hook = await ReceiverEndpoint.create("gap-continue");
    await subscribe(topic, hook.url, { onGap: "continue" });
    await control(topic, "pause");
    await publishCount(topic, 10, "/gaps-test");
    await retainNewest(topic, 3);
    await control(topic, "resume");

    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 3);
    expect(await hook.acceptedSeqs()).toEqual([8, 9, 10]);
    expect(await view(topic)).toMatchObject({
      state: "active",
      cursor: 10,
      gapCount: 1,
      gaps: [{ from: 1, to: 7, reason: "retention" }],
    });
  });

  it("records the gap of a batch being retried whose events were trimmed, instead of skipping it", async () => {
    const topic = uniqueTopic("retry");
    const hook = await ReceiverEndpoint.create("gap-retry", { failAll: true });
    await subscribe(topic, hook.url, {
      onGap: "continue",
      batchSize: 5,
      retry: { maxAttempts: 10, firstDelayMs: 1000, maxDelayMs: 1000 },
    });
    await publishCount(topic, 10, "/gaps-test");
    await runAlarmsUntil(topic, async () => (await view(topic)).attempts >= 1);
    await retainNewest(topic, 2);
    await hook.update({ failAll: false });

    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 2);
    expect(await hook.acceptedSeqs()).toEqual([9, 10]);
    expect(await view(topic)).toMatchObject({ cursor: 10, gapCount: 1, gaps: [{ from: 1, to: 8 }] });
  });

  it("meets no gap when retention protects subscriptions", async () => {
    const topic = uniqueTopic("protected");
    const hook = await ReceiverEndpoint.create("gap-protected");
    await subscribe(topic, hook.url, {});
    await control(topic, "pause");
    await publishCount(topic, 10, "/gaps-test");
    await runInDurableObject(topicStub(topic), (instance) => {
      const { store, subscriptionStore } = instance as unknown as {
        store: LogStore;
        subscriptionStore: { floor(): number | null };
      };
      const policy = {
        maxAgeSeconds: 604_800,
        maxEvents: 2,
        maxBytes: 1024 ** 3,
        dedupWindowSeconds: 86_400,
        protectSubscriptions: true,
      };
      expect(new Retention(store, policy, () => subscriptionStore.floor()).step(Date.now())).toMatchObject({
        removed: 0,
        heldBySubscription: true,
      });
    });
    await control(topic, "resume");
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 10);
    expect(await hook.acceptedSeqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await view(topic)).toMatchObject({ gapCount: 0, gaps: [] });
  });
});
