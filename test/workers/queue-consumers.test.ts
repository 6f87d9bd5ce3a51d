import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { consumerLedger } from "../../durable-objects/consumer-ledger.ts";
import type { DeadLetterList } from "../../protocol/dead-letter-api.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import {
  AUDIT,
  callsOf,
  captureLogsOfEachTest,
  drainQueue,
  effectsOf,
  failNext,
  fix,
  MAILER,
  welcomeMessage,
} from "./support/test-consumers.ts";

const WAIT = { timeout: 15_000, interval: 20 };

async function deadLettersOf(consumer: string, topic = "queue-tests"): Promise<DeadLetter[]> {
  const res = await meshFetch(`http://mesh/v1/dead-letters?consumer=${consumer}&topic=${topic}`);
  expect(res.status).toBe(200);
  return (await res.json<DeadLetterList>()).deadLetters;
}

const logs = captureLogsOfEachTest();

describe("queue consumers on the real queue path", () => {
  it("runs a handler that fails twice then succeeds once, and acknowledges the message", async () => {
    const message = welcomeMessage();
    const id = message.event.id;
    failNext(MAILER, id, 2);
    await env.DELIVERY_QUEUE.send(message);

    await vi.waitFor(() => expect(effectsOf(MAILER, id)).toBe(1), WAIT);
    await drainQueue(logs);
    expect(callsOf(MAILER, id)).toBe(3);
    expect(effectsOf(MAILER, id)).toBe(1);
    // The other consumer of the type succeeded on the first delivery and skipped the two retries.
    expect(callsOf(AUDIT, id)).toBe(1);
    expect(logs.about("consumer skipped duplicate", id, AUDIT)).toHaveLength(2);
    // Three deliveries and no more: the third was acknowledged.
    expect(logs.about("consumer dispatch", id).map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(await consumerLedger(env, MAILER).status(message.event.source, id)).toMatchObject({
      state: "done",
      attempts: 2,
    });
    expect((await deadLettersOf(MAILER)).filter((d) => d.event.id === id)).toEqual([]);
  });

  it("retries only the failing message of a batch", async () => {
    const batch = [welcomeMessage(), welcomeMessage(), welcomeMessage()];
    const failing = batch[1].event.id;
    failNext(MAILER, failing, 1);
    await env.DELIVERY_QUEUE.sendBatch(batch.map((body) => ({ body })));

    await vi.waitFor(() => expect(effectsOf(MAILER, failing)).toBe(1), WAIT);
    await drainQueue(logs);
    // The three arrived together, and only the failing one came back.
    const firstDispatches = batch.map((m) => logs.about("consumer dispatch", m.event.id)[0]);
    expect(firstDispatches.every((l) => l.attempt === 1)).toBe(true);
    for (const m of [batch[0], batch[2]]) {
      expect(logs.about("consumer dispatch", m.event.id)).toHaveLength(1);
      expect(callsOf(MAILER, m.event.id)).toBe(1);
      expect(effectsOf(MAILER, m.event.id)).toBe(1);
    }
    expect(logs.about("consumer dispatch", failing)).toHaveLength(2);
    expect(callsOf(MAILER, failing)).toBe(2);
  });

  it("runs the effect once when the same event is delivered twice, one after the other or together", async () => {
    const message = welcomeMessage();
    const id = message.event.id;
    await env.DELIVERY_QUEUE.send(message);
    await vi.waitFor(() => expect(effectsOf(MAILER, id)).toBe(1), WAIT);
    // A duplicate send later (Queues deliver at least once; a subscription may send again).
    await env.DELIVERY_QUEUE.send(message);
    await vi.waitFor(() => expect(logs.about("consumer skipped duplicate", id, MAILER)).toHaveLength(1), WAIT);

    // Two copies of a fresh event in one batch: they run one after another, not concurrently.
    const twin = welcomeMessage();
    await env.DELIVERY_QUEUE.sendBatch([{ body: twin }, { body: twin }]);
    await vi.waitFor(() => expect(logs.about("consumer dispatch", twin.event.id)).toHaveLength(2), WAIT);
    await drainQueue(logs);

    for (const consumer of [MAILER, AUDIT]) {
      expect(callsOf(consumer, id)).toBe(1);
      expect(effectsOf(consumer, id)).toBe(1);
      expect(callsOf(consumer, twin.event.id)).toBe(1);
      expect(effectsOf(consumer, twin.event.id)).toBe(1);
    }
  });

  it("dead-letters a handler that always fails with its last error, and a redrive after the fix runs it once", async () => {
    const message = welcomeMessage();
    const id = message.event.id;
    failNext(MAILER, id, Number.POSITIVE_INFINITY);
    await env.DELIVERY_QUEUE.send(message);

    // max_retries = 3: four attempts, then the DLQ consumer records it.
    const [dead] = await vi.waitFor(async () => {
      const found = (await deadLettersOf(MAILER)).filter((d) => d.event.id === id);
      expect(found).toHaveLength(1);
      return found;
    }, WAIT);
    expect(callsOf(MAILER, id)).toBe(4);
    expect(dead).toMatchObject({
      kind: "queue",
      consumer: MAILER,
      subscription: null,
      topic: message.topic,
      seq: message.seq,
      attempts: 4,
      lastError: `Error: simulated failure on call 4 of ${MAILER} for ${id}`,
      event: { id, source: message.event.source, type: "GreetingSent" },
    });
    expect(dead.id).toMatch(new RegExp(`^queue:${MAILER}:\\d+$`));
    // The consumer that succeeded has no dead letter for it.
    expect((await deadLettersOf(AUDIT)).filter((d) => d.event.id === id)).toEqual([]);
    const inspected = await meshFetch(`http://mesh/v1/dead-letters/${dead.id}`);
    expect(await inspected.json()).toEqual(dead);

    fix(MAILER, id);
    const res = await meshFetch(`http://mesh/v1/dead-letters/${dead.id}/redrive`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ redriven: [dead.id] });

    await vi.waitFor(async () => {
      expect((await meshFetch(`http://mesh/v1/dead-letters/${dead.id}`)).status).toBe(404);
    }, WAIT);
    await drainQueue(logs);
    expect(effectsOf(MAILER, id)).toBe(1);
    expect(callsOf(MAILER, id)).toBe(5);
    // Only the consumer named by the redrive was asked.
    expect(callsOf(AUDIT, id)).toBe(1);
    expect(logs.about("consumer dispatch", id).at(-1)).toMatchObject({ redrive: true, consumers: [MAILER] });

    // A second redrive of the same entry is refused: it left the store.
    const again = await meshFetch(`http://mesh/v1/dead-letters/${dead.id}/redrive`, { method: "POST" });
    expect(again.status).toBe(404);
  });

  it("logs dispatch, retry, success, dead letter and redrive with the event's traceparent", async () => {
    const message = welcomeMessage();
    const id = message.event.id;
    failNext(MAILER, id, Number.POSITIVE_INFINITY);
    await env.DELIVERY_QUEUE.send(message);
    const dead = await vi.waitFor(async () => {
      const found = (await deadLettersOf(MAILER)).find((d) => d.event.id === id);
      expect(found).toBeDefined();
      return found as DeadLetter;
    }, WAIT);
    fix(MAILER, id);
    await meshFetch(`http://mesh/v1/dead-letters/${dead.id}/redrive`, { method: "POST" });
    await vi.waitFor(() => expect(effectsOf(MAILER, id)).toBe(1), WAIT);

    for (const msg of [
      "consumer dispatch",
      "consumer failed",
      "consumer retry",
      "queue dead letter",
      "queue dead letter redrive",
      "consumer succeeded",
    ]) {
      const lines = logs.about(msg, id);
      expect(lines.length, msg).toBeGreaterThan(0);
      for (const line of lines) expect(line.traceparent, msg).toBe(message.traceparent);
    }
  });
});
