import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { DeadLetterList } from "../../protocol/dead-letter-api.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import { captureLogsOfEachTest, effectsOf, MAILER } from "./support/test-consumers.ts";
import { jsonInit, request, topicStub } from "./topic-client.ts";

const uniqueTopic = (name: string) => `qflow-${name}-${crypto.randomUUID().slice(0, 8)}`;
const hex = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");

/** Publishes GreetingSent events, each with its own id and traceparent. */
async function publish(topic: string, count: number) {
  const events = Array.from({ length: count }, () => {
    const id = `flow-${hex(6)}`;
    return {
      specversion: "1.0",
      id,
      source: "/test/flow",
      type: "GreetingSent",
      traceparent: `00-${hex(16)}-${hex(8)}-01`,
      data: { userId: `u-${id}`, email: "grace@example.com", emailId: `m-${id}`, subject: "Welcome" },
    };
  });
  const res = await request(`/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(201);
  return events;
}

async function putSubscription(topic: string, name: string, body: unknown) {
  const res = await request(`/v1/topics/${topic}/subscriptions/${name}`, jsonInit("PUT", body));
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

async function list(query: string): Promise<DeadLetter[]> {
  const res = await request(`/v1/dead-letters${query}`);
  expect(res.status).toBe(200);
  return (await res.json<DeadLetterList>()).deadLetters;
}

/** Fires the topic's alarm until `done` holds; never sleeps for it. */
async function runAlarmsUntil(topic: string, done: () => Promise<boolean>, maxRuns = 40) {
  for (let run = 0; run < maxRuns; run++) {
    if (await done()) return;
    await runDurableObjectAlarm(topicStub(topic));
  }
  expect(await done()).toBe(true);
}

const logs = captureLogsOfEachTest();

describe("from publish to consumer", () => {
  it("delivers through a queue subscription to the consumers, with the publish's traceparent in their logs", async () => {
    const topic = uniqueTopic("trace");
    await putSubscription(topic, "to-consumers", {
      target: { type: "queue", queue: "DELIVERY_QUEUE" },
      types: ["GreetingSent"],
    });
    const [event] = await publish(topic, 1);
    // The topic sends to the queue (driven by its alarm); the queue then delivers in its own time.
    await runAlarmsUntil(topic, async () => {
      const res = await request(`/v1/topics/${topic}/subscriptions/to-consumers`);
      return ((await res.json()) as { cursor: number }).cursor === 1;
    });
    await vi.waitFor(() => expect(logs.about("consumer dispatch", event.id).length).toBeGreaterThan(0), {
      timeout: 15_000,
    });

    // The success line is written after the handler's effect and the ledger's update: wait for it.
    await vi.waitFor(() => expect(logs.about("consumer succeeded", event.id, MAILER)).toHaveLength(1), {
      timeout: 15_000,
    });
    expect(effectsOf(MAILER, event.id)).toBe(1);
    const [succeeded] = logs.about("consumer succeeded", event.id, MAILER);
    expect(succeeded).toMatchObject({
      topic,
      seq: 1,
      subscription: "to-consumers",
      traceparent: event.traceparent,
    });
  });
});

describe("subscription dead letters in the one dead-letter API", () => {
  it("lists, inspects, deletes and redrives them beside queue dead letters", async () => {
    const topic = uniqueTopic("sub-dead");
    // Nothing listens on port 9: every delivery fails, and one attempt is all the policy allows.
    await putSubscription(topic, "hooked", {
      target: { type: "webhook", url: "http://127.0.0.1:9/hook" },
      retry: { maxAttempts: 1, firstDelayMs: 1, maxDelayMs: 1 },
    });
    const events = await publish(topic, 2);
    await runAlarmsUntil(topic, async () => (await list(`?topic=${topic}`)).length === 2);

    const ids = [`sub:${topic}:hooked:2`, `sub:${topic}:hooked:1`];
    const all = await list(`?topic=${topic}`);
    expect(all.map((d) => d.id).sort()).toEqual([...ids].sort());
    expect(all[0]).toMatchObject({ kind: "subscription", subscription: "hooked", consumer: null, topic, attempts: 1 });
    // Without a topic filter, every topic in the directory is asked.
    expect((await list("?kind=subscription")).map((d) => d.id)).toEqual(expect.arrayContaining(ids));
    expect(await list(`?topic=${topic}&subscription=hooked`)).toHaveLength(2);
    expect(await list(`?topic=${topic}&subscription=other`)).toEqual([]);
    expect(await list(`?topic=${topic}&kind=queue`)).toEqual([]);

    const one = await request(`/v1/dead-letters/sub:${topic}:hooked:1`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: `sub:${topic}:hooked:1`, seq: 1, event: { id: events[0].id } });
    for (const missing of [`sub:${topic}:hooked:99`, `sub:${topic}:nobody:1`]) {
      expect((await request(`/v1/dead-letters/${missing}`)).status).toBe(404);
    }

    expect((await request(`/v1/dead-letters/sub:${topic}:hooked:2`, { method: "DELETE" })).status).toBe(204);
    expect((await request(`/v1/dead-letters/sub:${topic}:hooked:2`)).status).toBe(404);

    // A redrive naming one missing dead letter sends nothing.
    const refused = await request(
      "/v1/dead-letters/redrive",
      jsonInit("POST", { ids: [`sub:${topic}:hooked:1`, `sub:${topic}:hooked:2`] }),
    );
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({
      error: { code: "dead_letter_not_found", ids: [`sub:${topic}:hooked:2`] },
    });

    // The subscription is pointed at the consumers' queue, and its dead letter redriven there.
    await putSubscription(topic, "hooked", { target: { type: "queue", queue: "DELIVERY_QUEUE" } });
    const res = await request("/v1/dead-letters/redrive", jsonInit("POST", { ids: [`sub:${topic}:hooked:1`] }));
    expect(res.status).toBe(202);
    await runAlarmsUntil(topic, async () => (await list(`?topic=${topic}`)).length === 0);
    await vi.waitFor(() => expect(effectsOf(MAILER, events[0].id)).toBe(1), { timeout: 15_000 });
    expect(effectsOf(MAILER, events[1].id)).toBe(0);
  });
});
