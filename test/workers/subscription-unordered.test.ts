import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import { jsonInit, publishCount, request, subscriptionView, topicStub } from "./topic-client.ts";
import { ReceiverEndpoint } from "./webhook-receiver-client.ts";

const uniqueTopic = (name: string) => `unordered-${name}-${crypto.randomUUID().slice(0, 8)}`;

/** Fires the topic's alarm ("the next due time has come") until `done` holds; never sleeps. */
async function runAlarmsUntil(topic: string, done: () => Promise<boolean>, maxRuns = 40): Promise<void> {
  for (let run = 0; run < maxRuns; run++) {
    if (await done()) return;
    await runDurableObjectAlarm(topicStub(topic));
  }
  expect(await done(), `condition still false after ${maxRuns} alarm runs`).toBe(true);
}

const sorted = (seqs: number[]) => [...seqs].sort((a, b) => a - b);

describe("unordered delivery", () => {
  it("retries a poison event on its own while later events are delivered, then dead-letters it", async () => {
    const topic = uniqueTopic("poison");
    const hook = await ReceiverEndpoint.create("poison", { failSeqs: [2] });
    const put = await request(
      `/v1/topics/${topic}/subscriptions/fast`,
      jsonInit("PUT", {
        target: { type: "webhook", url: hook.url },
        // A retry waits up to a minute: it never comes due on its own within the test.
        retry: { maxAttempts: 3, firstDelayMs: 60_000, maxDelayMs: 60_000 },
        delivery: { ordering: "unordered", maxInFlight: 4 },
      }),
    );
    expect(await put.json()).toMatchObject({ delivery: { ordering: "unordered", maxInFlight: 4 }, inFlight: 0 });
    await publishCount(topic, 6, "/unordered-test");

    // Every event but the poison one is delivered while it waits for its retry. The appends' own
    // alarm delivers them: a run forced here could find that alarm already done and set for the
    // retry a minute on, and would send the retry early (seen with two test files at once).
    await vi.waitFor(async () => expect((await hook.acceptedSeqs()).length).toBeGreaterThanOrEqual(5), {
      timeout: 10_000,
      interval: 20,
    });
    expect(sorted(await hook.acceptedSeqs())).toEqual([1, 3, 4, 5, 6]);
    expect(await subscriptionView(topic, "fast")).toMatchObject({
      cursor: 1,
      lag: 5,
      attempts: 1,
      inFlight: 0,
      retrying: 1,
      delivered: 5,
      deadLetters: 0,
    });

    // Its own retries come due (the test's alarm runs are "that time has come"); then it is given up.
    await runAlarmsUntil(topic, async () => (await subscriptionView(topic, "fast")).deadLetters === 1);
    const attempts = (await hook.requests()).filter((r) => r.seqs.includes(2));
    expect(attempts.map((r) => [r.webhookId, r.attempt])).toEqual([
      [`${topic}:fast:2`, "1"],
      [`${topic}:fast:2`, "2"],
      [`${topic}:fast:2`, "3"],
    ]);
    expect(await subscriptionView(topic, "fast")).toMatchObject({
      cursor: 6,
      lag: 0,
      retrying: 0,
      inFlight: 0,
      delivered: 5,
    });
    const dead = (await (await request(`/v1/topics/${topic}/subscriptions/fast/dead-letters`)).json()) as {
      deadLetters: DeadLetter[];
    };
    expect(dead.deadLetters.map((d) => [d.seq, d.attempts])).toEqual([[2, 3]]);

    // Later events flow on; nothing was lost or left behind.
    await publishCount(topic, 2, "/unordered-test");
    await runAlarmsUntil(topic, async () => (await subscriptionView(topic, "fast")).lag === 0);
    expect(sorted(await hook.acceptedSeqs())).toEqual([1, 3, 4, 5, 6, 7, 8]);
  });

  it("delivers every event with several deliveries in flight, and holds retention at the lowest one not done", async () => {
    const topic = uniqueTopic("many");
    const hook = await ReceiverEndpoint.create("many");
    await publishCount(topic, 40, "/unordered-test");
    await request(
      `/v1/topics/${topic}/subscriptions/wide`,
      jsonInit("PUT", {
        target: { type: "webhook", url: hook.url },
        start: "earliest",
        batchSize: 3,
        delivery: { ordering: "unordered", maxInFlight: 5 },
      }),
    );
    await runAlarmsUntil(topic, async () => (await subscriptionView(topic, "wide")).lag === 0);
    expect(sorted(await hook.acceptedSeqs())).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await subscriptionView(topic, "wide")).toMatchObject({
      cursor: 40,
      delivered: 40,
      inFlight: 0,
      retrying: 0,
    });
    expect((await hook.requests()).every((r) => r.seqs.length <= 3)).toBe(true);
  });

  it("delivers only what its filters match, several at once, and passes the rest", async () => {
    const topic = uniqueTopic("filtered");
    const hook = await ReceiverEndpoint.create("filtered");
    await publishCount(topic, 12, "/eu/shop");
    await publishCount(topic, 15, "/us/shop");
    await publishCount(topic, 5, "/eu/shop");
    await request(
      `/v1/topics/${topic}/subscriptions/eu`,
      jsonInit("PUT", {
        target: { type: "webhook", url: hook.url },
        start: "earliest",
        filters: [{ prefix: { source: "/eu/" } }],
        batchSize: 2,
        delivery: { ordering: "unordered", maxInFlight: 3 },
      }),
    );
    await runAlarmsUntil(topic, async () => (await subscriptionView(topic, "eu")).lag === 0);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(sorted(await hook.acceptedSeqs())).toEqual([...range(1, 12), ...range(28, 32)]);
    expect(await subscriptionView(topic, "eu")).toMatchObject({ cursor: 32, delivered: 17, inFlight: 0, retrying: 0 });
  });

  it("starts afresh from the cursor when switched back to strict order", async () => {
    const topic = uniqueTopic("switch");
    const hook = await ReceiverEndpoint.create("switch", { failSeqs: [1] });
    const body = {
      target: { type: "webhook", url: hook.url },
      retry: { maxAttempts: 5, firstDelayMs: 60_000, maxDelayMs: 60_000 },
      delivery: { ordering: "unordered" },
    };
    await request(`/v1/topics/${topic}/subscriptions/s`, jsonInit("PUT", body));
    await publishCount(topic, 3, "/unordered-test");
    await runAlarmsUntil(topic, async () => (await hook.acceptedSeqs()).length >= 2);
    expect(await subscriptionView(topic, "s")).toMatchObject({ cursor: 0, retrying: 1, delivery: { maxInFlight: 8 } });

    await hook.update({ failSeqs: [] });
    const strict = await request(
      `/v1/topics/${topic}/subscriptions/s`,
      jsonInit("PUT", { ...body, delivery: undefined }),
    );
    expect(await strict.json()).toMatchObject({ delivery: { ordering: "strict" }, retrying: 0, cursor: 0 });
    await runAlarmsUntil(topic, async () => (await subscriptionView(topic, "s")).lag === 0);
    // At least once: 2 and 3 came again, now in order after 1.
    expect((await hook.acceptedSeqs()).slice(-3)).toEqual([1, 2, 3]);
  });
});

describe("delivery options", () => {
  it.each([
    ["an unknown ordering", { ordering: "sideways" }, "delivery.ordering"],
    ["maxInFlight with strict order", { ordering: "strict", maxInFlight: 4 }, "delivery.maxInFlight"],
    ["maxInFlight below 1", { ordering: "unordered", maxInFlight: 0 }, "delivery.maxInFlight"],
    ["maxInFlight above 32", { ordering: "unordered", maxInFlight: 33 }, "delivery.maxInFlight"],
    ["a fractional maxInFlight", { ordering: "unordered", maxInFlight: 1.5 }, "delivery.maxInFlight"],
  ])("refuses %s with invalid_body naming the field, storing nothing", async (_label, delivery, field) => {
    const topic = uniqueTopic("bad");
    const res = await request(
      `/v1/topics/${topic}/subscriptions/s`,
      jsonInit("PUT", { target: { type: "queue", queue: "DELIVERY_QUEUE" }, delivery }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_body", field } });
    expect((await request(`/v1/topics/${topic}/subscriptions/s`)).status).toBe(404);
  });

  it("delivers in strict order by default and says so", async () => {
    const topic = uniqueTopic("default");
    const res = await request(
      `/v1/topics/${topic}/subscriptions/s`,
      jsonInit("PUT", { target: { type: "queue", queue: "DELIVERY_QUEUE" } }),
    );
    expect(await res.json()).toMatchObject({ delivery: { ordering: "strict" }, inFlight: 0, retrying: 0 });
  });
});
