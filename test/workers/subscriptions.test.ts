import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { PutSubscriptionResponse, SubscriptionView } from "../../protocol/subscriptions.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { captureLogsOfEachTest } from "./support/test-consumers.ts";
import { ReceiverEndpoint } from "./webhook-receiver-client.ts";

// Every test uses its own topic, so tests never see each other's events or alarms.
const uniqueTopic = (name: string) => `subs-${name}-${crypto.randomUUID().slice(0, 8)}`;

function api(path: string, init?: RequestInit): Promise<Response> {
  return meshFetch(`http://mesh${path}`, init);
}

function json(method: string, body: unknown): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

let published = 0;
/** Publishes `count` events of `type`; `attributes` adds context attributes to each. */
async function publish(
  topic: string,
  count: number,
  type = "Thing",
  attributes: Record<string, string> = {},
): Promise<void> {
  const events = Array.from({ length: count }, () => ({
    id: `e${++published}`,
    source: "subscriptions-test",
    specversion: "1.0",
    type,
    data: { n: published },
    ...attributes,
  }));
  const res = await api(`/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(201);
}

async function putSubscription(topic: string, name: string, body: unknown): Promise<PutSubscriptionResponse> {
  const res = await api(`/v1/topics/${topic}/subscriptions/${name}`, json("PUT", body));
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return res.json();
}

async function view(topic: string, name: string): Promise<SubscriptionView> {
  const res = await api(`/v1/topics/${topic}/subscriptions/${name}`);
  expect(res.status).toBe(200);
  return res.json();
}

async function deadLetters(topic: string, name: string): Promise<DeadLetter[]> {
  const res = await api(`/v1/topics/${topic}/subscriptions/${name}/dead-letters`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { deadLetters: DeadLetter[] }).deadLetters;
}

const logs = captureLogsOfEachTest();

const topicStub = (topic: string) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));

/**
 * Fires the topic's alarm (each run is "the next alarm time has come") until `done` holds. Never
 * sleeps: a retry scheduled seconds ahead runs as soon as the test fires the alarm.
 */
async function runAlarmsUntil(topic: string, done: () => Promise<boolean>, maxRuns = 40): Promise<void> {
  for (let run = 0; run < maxRuns; run++) {
    if (await done()) return;
    await runDurableObjectAlarm(topicStub(topic));
  }
  expect(await done(), `condition still false after ${maxRuns} alarm runs`).toBe(true);
}

/**
 * Watches for what the runtime's own alarm does right after a publish (an alarm due now), without
 * firing one: used where the test must act while that run is in flight or just after it.
 */
async function watchUntil(done: () => Promise<boolean>, maxLooks = 500): Promise<void> {
  for (let look = 0; look < maxLooks; look++) if (await done()) return;
  expect(await done(), `condition still false after ${maxLooks} looks`).toBe(true);
}

const fastRetry = { maxAttempts: 3, firstDelayMs: 1000, maxDelayMs: 5000 };

describe("webhook delivery", () => {
  it("delivers every event once, in order, signed, from the start position", async () => {
    const topic = uniqueTopic("order");
    const hook = await ReceiverEndpoint.create("order");
    await publish(topic, 3);
    const created = await putSubscription(topic, "audit", {
      target: { type: "webhook", url: hook.url },
      start: "earliest",
    });
    expect(created).toMatchObject({ created: true, cursor: 0, head: 3, lag: 3, state: "active" });
    // No secret was given: one is generated and shown this once, then the receiver verifies with it.
    expect(created.secret).toMatch(/^whsec_/);
    await hook.update({ secret: created.secret });
    await publish(topic, 4);

    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 7);
    expect(await hook.acceptedSeqs()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const requests = await hook.requests();
    expect(requests.every((r) => r.verified)).toBe(true);
    expect(requests.map((r) => r.webhookId)).toEqual([1, 2, 3, 4, 5, 6, 7].map((seq) => `${topic}:audit:${seq}`));

    const after = await view(topic, "audit");
    expect(after).toMatchObject({ cursor: 7, head: 7, lag: 0, attempts: 0, delivered: 7, nextAttemptAt: null });
    expect(after).not.toHaveProperty("secret");
    expect(after.target).toEqual({ type: "webhook", url: hook.url, timeoutMs: 10_000 });
  });

  it("sends batches in seq order and keeps a given secret", async () => {
    const topic = uniqueTopic("batch");
    const secret = `whsec_${btoa("0123456789abcdef0123456789abcdef")}`;
    const hook = await ReceiverEndpoint.create("batch", { secret });
    const created = await putSubscription(topic, "bulk", {
      target: { type: "webhook", url: hook.url, secret },
      batchSize: 3,
    });
    expect(created).not.toHaveProperty("secret");
    await publish(topic, 7);
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 7);
    const requests = await hook.requests();
    expect(requests.map((r) => r.seqs)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(requests.every((r) => r.verified)).toBe(true);
    expect(requests[0].webhookId).toBe(`${topic}:bulk:1-3`);
  });

  it("retries a target that fails twice, then delivers each event exactly once", async () => {
    const topic = uniqueTopic("flaky");
    const hook = await ReceiverEndpoint.create("flaky", { failNext: 2 });
    await putSubscription(topic, "flaky", {
      target: { type: "webhook", url: hook.url },
      retry: { maxAttempts: 5, firstDelayMs: 1000, maxDelayMs: 5000 },
    });
    await publish(topic, 3);

    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 3);
    expect(await hook.acceptedSeqs()).toEqual([1, 2, 3]);
    const requests = await hook.requests();
    // The two failures and the success of event 1 are one delivery: same id, counted attempts.
    expect(requests.slice(0, 3).map((r) => [r.webhookId, r.attempt, r.status])).toEqual([
      [`${topic}:flaky:1`, "1", 503],
      [`${topic}:flaky:1`, "2", 503],
      [`${topic}:flaky:1`, "3", 200],
    ]);
    expect(requests).toHaveLength(5);
    const after = await view(topic, "flaky");
    expect(after).toMatchObject({ cursor: 3, head: 3, lag: 0, attempts: 0, delivered: 3, deadLetters: 0 });
    expect(after.lastError).toMatch(/^HTTP 503/);
  });

  it("delivers only the filtered types and moves the cursor past the others", async () => {
    const topic = uniqueTopic("filter");
    const hook = await ReceiverEndpoint.create("filter");
    await putSubscription(topic, "orders", { target: { type: "webhook", url: hook.url }, types: ["OrderPlaced"] });
    await publish(topic, 2, "Other");
    await publish(topic, 1, "OrderPlaced");
    await publish(topic, 2, "Other");
    await runAlarmsUntil(topic, async () => (await view(topic, "orders")).lag === 0);
    expect(await hook.acceptedSeqs()).toEqual([3]);
    expect(await view(topic, "orders")).toMatchObject({ cursor: 5, delivered: 1 });
  });

  it("delivers only what its CloudEvents filters match, moves the cursor past the rest, and shows the filters", async () => {
    const topic = uniqueTopic("cefilter");
    const hook = await ReceiverEndpoint.create("cefilter");
    const filters = [{ prefix: { subject: "orders/" } }, { not: { exact: { region: "us" } } }];
    const body = { target: { type: "webhook", url: hook.url }, types: ["OrderPlaced"], filters, batchSize: 2 };
    const created = await putSubscription(topic, "eu-orders", body);
    expect(created.filters).toEqual(filters);
    await publish(topic, 1, "OrderPlaced", { subject: "orders/1", region: "eu" });
    await publish(topic, 1, "OrderPlaced", { subject: "orders/2", region: "us" });
    await publish(topic, 1, "Other", { subject: "orders/3", region: "eu" });
    await publish(topic, 1, "OrderPlaced", { subject: "carts/4", region: "eu" });
    // No region at all: `exact` does not match a missing attribute, so `not` of it does.
    await publish(topic, 1, "OrderPlaced", { subject: "orders/5" });
    await publish(topic, 3, "OrderPlaced", { subject: "orders/6", region: "us" });
    await publish(topic, 1, "OrderPlaced", { subject: "orders/9", region: "eu" });
    await runAlarmsUntil(topic, async () => (await view(topic, "eu-orders")).lag === 0);
    expect(await hook.acceptedSeqs()).toEqual([1, 5, 9]);
    expect(await view(topic, "eu-orders")).toMatchObject({ cursor: 9, lag: 0, delivered: 3, filters });

    // A malformed filter is refused with what is wrong and where; nothing is stored.
    const bad = { ...body, filters: [{ exact: { region: "eu" }, prefix: { subject: "o" } }] };
    const refused = await api(`/v1/topics/${topic}/subscriptions/bad`, json("PUT", bad));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: {
        code: "invalid_body",
        message: expect.stringContaining("filters.0: a filter holds exactly one dialect"),
      },
    });
    expect((await api(`/v1/topics/${topic}/subscriptions/bad`)).status).toBe(404);
    // An update without filters delivers every event of its types again.
    const { filters: _dropped, ...unfiltered } = body;
    expect(await putSubscription(topic, "eu-orders", unfiltered)).toMatchObject({ created: false, filters: null });
  });

  it("counts a timeout as a failure with a readable reason", async () => {
    const topic = uniqueTopic("slow");
    const hook = await ReceiverEndpoint.create("slow", { delayMs: 2000 });
    await putSubscription(topic, "slow", { target: { type: "webhook", url: hook.url, timeoutMs: 200 } });
    await publish(topic, 1);
    await runAlarmsUntil(topic, async () => (await view(topic, "slow")).attempts > 0);
    const after = await view(topic, "slow");
    expect(after).toMatchObject({ cursor: 0, lastError: "timed out after 200 ms" });
    expect(after.attempts).toBeGreaterThanOrEqual(1);
    expect(after.nextAttemptAt).not.toBeNull();
  });
});

describe("retries and dead letters", () => {
  it("spaces retries with backoff that grows and never exceeds the max", async () => {
    const topic = uniqueTopic("backoff");
    const hook = await ReceiverEndpoint.create("backoff", { failAll: true });
    // Delays of seconds: the test fires each retry itself instead of waiting for it.
    const retry = { maxAttempts: 5, firstDelayMs: 2000, maxDelayMs: 8000 };
    // Many subscriptions on one topic give many draws of the jittered delay per attempt.
    const names = Array.from({ length: 12 }, (_, i) => `b${i}`);
    for (const name of names) await putSubscription(topic, name, { target: { type: "webhook", url: hook.url }, retry });
    await publish(topic, 1);
    await runAlarmsUntil(
      topic,
      async () => {
        const res = await api(`/v1/topics/${topic}/subscriptions`);
        const { subscriptions } = (await res.json()) as { subscriptions: SubscriptionView[] };
        return subscriptions.every((s) => s.deadLetters === 1);
      },
      120,
    );

    // Each failure logs the delay it drew before the next attempt, whether that attempt then ran
    // when the test fired the alarm or when the runtime did: every draw, none hidden by timing.
    const delays = new Map<number, number[]>();
    for (const line of logs.lines()) {
      if (line.msg !== "delivery failed" || line.topic !== topic) continue;
      const attempt = line.attempt as number;
      delays.set(attempt, [...(delays.get(attempt) ?? []), line.retryInMs as number]);
    }
    for (let attempt = 1; attempt < retry.maxAttempts; attempt++) {
      const ceiling = Math.min(retry.maxDelayMs, retry.firstDelayMs * 2 ** (attempt - 1));
      const drawn = delays.get(attempt) ?? [];
      expect(drawn, `draws after attempt ${attempt}`).toHaveLength(names.length);
      for (const delay of drawn) {
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
    // Full jitter draws uniformly below a ceiling that doubles: the mean grows (1000 → 4000 expected).
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(delays.get(3) ?? [])).toBeGreaterThan(mean(delays.get(1) ?? []));
    // Each subscription made exactly maxAttempts tries at the one event.
    expect((await hook.requests()).length).toBe(names.length * retry.maxAttempts);
  });

  it("dead-letters an event that runs out of attempts, lets the next one flow, and redrives it", async () => {
    const topic = uniqueTopic("dead");
    const hook = await ReceiverEndpoint.create("dead", { failSeqs: [2] });
    await putSubscription(topic, "mailer", { target: { type: "webhook", url: hook.url }, retry: fastRetry });
    await publish(topic, 3);

    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).includes(3));
    expect(await hook.acceptedSeqs()).toEqual([1, 3]);
    const [dead, ...others] = await deadLetters(topic, "mailer");
    expect(others).toEqual([]);
    expect(dead).toMatchObject({
      id: `sub:${topic}:mailer:2`,
      kind: "subscription",
      topic,
      seq: 2,
      subscription: "mailer",
      consumer: null,
      attempts: 3,
      event: { seq: 2, type: "Thing" },
    });
    expect(dead.lastError).toMatch(/^HTTP 503/);
    expect(Date.parse(dead.firstFailureAt)).toBeLessThanOrEqual(Date.parse(dead.lastFailureAt));
    expect(await view(topic, "mailer")).toMatchObject({ cursor: 3, lag: 0, deadLetters: 1 });

    // The receiver is fixed; a redrive delivers the dead letter and it leaves the list.
    await hook.update({ failSeqs: [] });
    const redrive = await api(`/v1/topics/${topic}/subscriptions/mailer/dead-letters/redrive`, { method: "POST" });
    expect(redrive.status).toBe(202);
    expect(await redrive.json()).toEqual({ redriven: [2] });
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).includes(2));
    expect(await hook.acceptedSeqs()).toEqual([1, 3, 2]);
    expect(await deadLetters(topic, "mailer")).toEqual([]);
  });

  it("redrives chosen seqs in seq order and refuses unknown ones without changing anything", async () => {
    const topic = uniqueTopic("redrive");
    const hook = await ReceiverEndpoint.create("redrive", { failSeqs: [1, 2, 3] });
    await putSubscription(topic, "r", {
      target: { type: "webhook", url: hook.url },
      retry: { maxAttempts: 1, firstDelayMs: 1, maxDelayMs: 1 },
      start: "earliest",
    });
    await publish(topic, 4);
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).includes(4));
    expect((await deadLetters(topic, "r")).map((d) => d.seq)).toEqual([1, 2, 3]);

    const unknown = await api(
      `/v1/topics/${topic}/subscriptions/r/dead-letters/redrive`,
      json("POST", { seqs: [3, 4] }),
    );
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "dead_letter_not_found", missing: [4] } });

    await hook.update({ failSeqs: [] });
    const chosen = await api(
      `/v1/topics/${topic}/subscriptions/r/dead-letters/redrive`,
      json("POST", { seqs: [3, 1] }),
    );
    expect(await chosen.json()).toEqual({ redriven: [1, 3] });
    await runAlarmsUntil(topic, async () => (await deadLetters(topic, "r")).length === 1);
    expect(await hook.acceptedSeqs()).toEqual([4, 1, 3]);
    expect((await deadLetters(topic, "r")).map((d) => d.seq)).toEqual([2]);
  });

  it("pauses on an exhausted event when the policy says so, and retries it on resume", async () => {
    const topic = uniqueTopic("halt");
    const hook = await ReceiverEndpoint.create("halt", { failAll: true });
    await putSubscription(topic, "strict", {
      target: { type: "webhook", url: hook.url },
      retry: { maxAttempts: 2, firstDelayMs: 1000, maxDelayMs: 1000 },
      onExhausted: "pause",
    });
    await publish(topic, 2);
    await runAlarmsUntil(topic, async () => (await view(topic, "strict")).state === "paused");
    expect(await view(topic, "strict")).toMatchObject({
      pausedReason: "exhausted",
      cursor: 0,
      attempts: 2,
      deadLetters: 0,
      nextAttemptAt: null,
    });

    await hook.update({ failAll: false });
    const resumed = await api(`/v1/topics/${topic}/subscriptions/strict/resume`, { method: "POST" });
    expect(await resumed.json()).toMatchObject({ state: "active", pausedReason: null, attempts: 0 });
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 2);
    expect(await hook.acceptedSeqs()).toEqual([1, 2]);
  });
});

describe("pause, resume, seek", () => {
  it("holds delivery while paused, resumes from the cursor, and replays after a seek", async () => {
    const topic = uniqueTopic("control");
    const hook = await ReceiverEndpoint.create("control");
    await putSubscription(topic, "ops", { target: { type: "webhook", url: hook.url } });
    await publish(topic, 2);
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 2);

    const paused = await api(`/v1/topics/${topic}/subscriptions/ops/pause`, { method: "POST" });
    expect(await paused.json()).toMatchObject({ state: "paused", pausedReason: "manual", nextAttemptAt: null });
    await publish(topic, 2);
    await runDurableObjectAlarm(topicStub(topic));
    expect(await hook.acceptedSeqs()).toEqual([1, 2]);
    expect(await view(topic, "ops")).toMatchObject({ cursor: 2, head: 4, lag: 2 });

    await api(`/v1/topics/${topic}/subscriptions/ops/resume`, { method: "POST" });
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 4);
    expect(await hook.acceptedSeqs()).toEqual([1, 2, 3, 4]);

    // A seek beyond the head is refused and moves nothing.
    const ahead = await api(`/v1/topics/${topic}/subscriptions/ops/seek`, json("POST", { to: 99 }));
    expect(ahead.status).toBe(409);
    expect(await ahead.json()).toMatchObject({ error: { code: "cursor_ahead", head: 4 } });
    expect(await view(topic, "ops")).toMatchObject({ cursor: 4 });

    // Seek back: the next event delivered is seq 2, so 2..4 are delivered again, in order.
    const sought = await api(`/v1/topics/${topic}/subscriptions/ops/seek`, json("POST", { to: 2 }));
    expect(await sought.json()).toMatchObject({ cursor: 1, lag: 3 });
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 7);
    expect(await hook.acceptedSeqs()).toEqual([1, 2, 3, 4, 2, 3, 4]);

    await api(`/v1/topics/${topic}/subscriptions/ops/pause`, { method: "POST" });
    const earliest = await api(`/v1/topics/${topic}/subscriptions/ops/seek`, json("POST", { to: "earliest" }));
    expect(await earliest.json()).toMatchObject({ state: "paused", cursor: 0, lag: 4 });
    const latest = await api(`/v1/topics/${topic}/subscriptions/ops/seek`, json("POST", { to: "latest" }));
    expect(await latest.json()).toMatchObject({ cursor: 4, lag: 0 });
  });
});

describe("durability", () => {
  it("resumes delivery after the Durable Object restarts in the middle of retrying", async () => {
    const topic = uniqueTopic("restart");
    const hook = await ReceiverEndpoint.create("restart", { failNext: 1 });
    await putSubscription(topic, "durable", {
      target: { type: "webhook", url: hook.url },
      retry: { maxAttempts: 5, firstDelayMs: 20_000, maxDelayMs: 20_000 },
    });
    await publish(topic, 2);
    // The first attempt runs in the alarm the publish armed. Once it failed and the alarm is
    // re-armed for the retry, the restart lands between attempts, not inside an alarm run.
    await watchUntil(async () => {
      const { attempts, nextAttemptAt } = await view(topic, "durable");
      const alarm = await runInDurableObject(topicStub(topic), (_instance, state) => state.storage.getAlarm());
      return attempts === 1 && nextAttemptAt !== null && alarm === Date.parse(nextAttemptAt);
    });

    // The object is reset: memory is gone; the cursor, attempts and due time are in SQLite.
    await runInDurableObject(topicStub(topic), (_instance, state) => state.abort("test restart")).catch(() => {});
    expect(await view(topic, "durable")).toMatchObject({ cursor: 0, attempts: 1 });

    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 2);
    expect(await hook.acceptedSeqs()).toEqual([1, 2]);
    expect(await view(topic, "durable")).toMatchObject({ cursor: 2, attempts: 0, lag: 0 });
  });
});

describe("durability in flight", () => {
  it("sends a delivery again, with the same id, when the object dies while it is in flight", async () => {
    const topic = uniqueTopic("inflight");
    const hook = await ReceiverEndpoint.create("inflight", { delayMs: 1500 });
    await putSubscription(topic, "lease", { target: { type: "webhook", url: hook.url } });
    await publish(topic, 2);
    // The first request is at the receiver, its answer still pending: the object dies now.
    await watchUntil(async () => (await hook.requests()).length > 0);
    await hook.update({ delayMs: 0 });
    await runInDurableObject(topicStub(topic), (_instance, state) => state.abort("test crash")).catch(() => {});

    await runAlarmsUntil(topic, async () => (await view(topic, "lease")).lag === 0);
    const requests = await hook.requests();
    // At least once: event 1 came twice, both times as the same delivery; then event 2. In order.
    expect(requests.map((r) => r.webhookId)).toEqual([`${topic}:lease:1`, `${topic}:lease:1`, `${topic}:lease:2`]);
  });
});

describe("queue targets", () => {
  it("sends events to a Queue binding and advances the cursor", async () => {
    const topic = uniqueTopic("queue");
    const created = await putSubscription(topic, "to-queue", {
      target: { type: "queue", queue: "DELIVERY_QUEUE" },
      batchSize: 10,
    });
    expect(created.target).toEqual({ type: "queue", queue: "DELIVERY_QUEUE" });
    expect(created).not.toHaveProperty("secret");
    await publish(topic, 3);
    await runAlarmsUntil(topic, async () => (await view(topic, "to-queue")).lag === 0);
    expect(await view(topic, "to-queue")).toMatchObject({ cursor: 3, delivered: 3, attempts: 0, lastError: null });
  });
});

describe("the API", () => {
  it("lists, updates and deletes subscriptions", async () => {
    const topic = uniqueTopic("crud");
    const hook = await ReceiverEndpoint.create("crud");
    await publish(topic, 2);
    const first = await putSubscription(topic, "a", { target: { type: "webhook", url: hook.url } });
    expect(first).toMatchObject({ created: true, cursor: 2, retry: { maxAttempts: 10 }, onExhausted: "dead-letter" });
    const second = await putSubscription(topic, "b", {
      target: { type: "queue", queue: "DELIVERY_QUEUE" },
      start: { seq: 1 },
    });
    expect(second).toMatchObject({ created: true, cursor: 0, lag: 2 });

    // An update keeps the cursor and the secret, and says it was not created.
    const updated = await putSubscription(topic, "a", { target: { type: "webhook", url: hook.url }, batchSize: 5 });
    expect(updated).toMatchObject({ created: false, cursor: 2, batchSize: 5 });
    expect(updated).not.toHaveProperty("secret");

    const list = await (await api(`/v1/topics/${topic}/subscriptions`)).json();
    expect(list).toMatchObject({ topic, subscriptions: [{ name: "a", batchSize: 5 }, { name: "b" }] });

    expect((await api(`/v1/topics/${topic}/subscriptions/a`, { method: "DELETE" })).status).toBe(204);
    const gone = await api(`/v1/topics/${topic}/subscriptions/a`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: { code: "subscription_not_found" } });
  });

  it.each([
    ["a non-http url", { target: { type: "webhook", url: "ftp://example.com/x" } }, 422, "webhook_url_not_allowed"],
    ["a relative url", { target: { type: "webhook", url: "/hook" } }, 400, "invalid_body"],
    ["a bad secret", { target: { type: "webhook", url: "http://127.0.0.1/x", secret: "nope" } }, 400, "invalid_body"],
    ["an unknown queue", { target: { type: "queue", queue: "NO_SUCH_QUEUE" } }, 422, "unknown_queue"],
    ["an unknown field", { target: { type: "queue", queue: "DELIVERY_QUEUE" }, retries: 3 }, 400, "invalid_body"],
    [
      "a start beyond the head",
      { target: { type: "queue", queue: "DELIVERY_QUEUE" }, start: { seq: 5 } },
      409,
      "cursor_ahead",
    ],
    [
      "first delay above max",
      { target: { type: "queue", queue: "DELIVERY_QUEUE" }, retry: { firstDelayMs: 10, maxDelayMs: 5 } },
      400,
      "invalid_body",
    ],
  ])("refuses %s and stores nothing", async (_label, body, status, code) => {
    const topic = uniqueTopic("bad");
    const res = await api(`/v1/topics/${topic}/subscriptions/s`, json("PUT", body));
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: { code } });
    expect((await api(`/v1/topics/${topic}/subscriptions/s`)).status).toBe(404);
  });

  it("refuses bad names, wrong methods and unknown subscriptions", async () => {
    const topic = uniqueTopic("refuse");
    const badName = await api(`/v1/topics/${topic}/subscriptions/a:b`);
    expect(await badName.json()).toMatchObject({ error: { code: "invalid_subscription_name" } });
    const wrongMethod = await api(`/v1/topics/${topic}/subscriptions/s/pause`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    const missing = await api(`/v1/topics/${topic}/subscriptions/nope/dead-letters`);
    expect(missing.status).toBe(404);
    const badSeek = await api(`/v1/topics/${topic}/subscriptions/nope/seek`, json("POST", { to: -1 }));
    expect(badSeek.status).toBe(400);
    const huge = { target: { type: "queue", queue: "DELIVERY_QUEUE" }, types: ["x".repeat(70_000)] };
    const tooLarge = await api(`/v1/topics/${topic}/subscriptions/s`, json("PUT", huge));
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: "body_too_large" } });
  });
});
