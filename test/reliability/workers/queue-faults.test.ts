import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it, vi } from "vitest";
import type { DeadLetterList } from "../../../protocol/dead-letter-api.ts";
import type { SubscriptionView } from "../../../protocol/subscriptions.ts";
import { checkDeliveries, seqsUpTo } from "../../support/invariants.ts";
import { meshFetch } from "../../workers/support/mesh-fetch.ts";
import { callCount, effectSeqs, FLAKY_CONSUMER, heal, type Plan, planned } from "./support/flaky-consumer.ts";

// Scenario 5 (queues): a queue handler that throws on some messages of each batch, some a few
// times, some on every attempt until fixed. Retries, the DLQ, the dead-letter store and a redrive
// must leave every event's effect exactly once.
const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
const stub = (topic: string) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));

async function deadLetters(): Promise<DeadLetterList["deadLetters"]> {
  const res = await meshFetch(`/v1/dead-letters?consumer=${FLAKY_CONSUMER}&limit=1000`);
  expect(res.status).toBe(200);
  return (await res.json<DeadLetterList>()).deadLetters;
}

function planOf(n: number): Plan {
  if (n % 10 === 3) return "poison";
  if (n % 5 === 1) return "fail-1";
  if (n % 7 === 2) return "fail-2";
  return "ok";
}

it("gives each event one effect through throwing handlers, retries, dead letters and a redrive", async () => {
  const topic = `queue-faults-${crypto.randomUUID().slice(0, 8)}`;
  const put = await meshFetch(
    `/v1/topics/${topic}/subscriptions/to-queue`,
    json("PUT", { target: { type: "queue", queue: "DELIVERY_QUEUE" }, start: "earliest", batchSize: 10 }),
  );
  expect(put.status).toBe(201);
  const EVENTS = 60;
  const res = await meshFetch(`/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(
      Array.from({ length: EVENTS }, (_, i) => ({
        id: `job-${i + 1}`,
        source: "/queue-faults",
        specversion: "1.0",
        ...planned(planOf(i + 1), i + 1),
      })),
    ),
  });
  expect(res.status).toBe(201);
  const poisoned = seqsUpTo(EVENTS).filter((n) => planOf(n) === "poison");

  // The subscription hands every event to the queue (batches of 10, each mixing the plans).
  for (let run = 0; run < 20; run++) {
    const view = await (await meshFetch(`/v1/topics/${topic}/subscriptions/to-queue`)).json<SubscriptionView>();
    if (view.lag === 0) break;
    await runDurableObjectAlarm(stub(topic));
  }
  // Everything but the poisoned events takes effect after its retries; those end in the DLQ.
  await vi.waitFor(
    async () => {
      expect(new Set(effectSeqs(topic)).size).toBe(EVENTS - poisoned.length);
      expect((await deadLetters()).map((d) => d.seq).sort((a, b) => a - b)).toEqual(poisoned);
    },
    { timeout: 30_000, interval: 100 },
  );
  const dead = await deadLetters();
  expect(dead.every((d) => d.kind === "queue" && d.lastError.includes("poisoned"))).toBe(true);

  heal();
  const redrive = await meshFetch("/v1/dead-letters/redrive", json("POST", { ids: dead.map((d) => d.id) }));
  expect(redrive.status).toBe(202);
  await vi.waitFor(
    async () => {
      expect(new Set(effectSeqs(topic)).size).toBe(EVENTS);
      expect(await deadLetters()).toEqual([]);
    },
    { timeout: 30_000, interval: 100 },
  );
  // Retries happened (more calls than effects), and no effect happened twice.
  expect(callCount()).toBeGreaterThan(EVENTS + poisoned.length * 3);
  expect(
    checkDeliveries("queue consumer", effectSeqs(topic), { expected: seqsUpTo(EVENTS), ordered: false }),
  ).toMatchObject({ redelivered: 0, violations: [] });
});
