import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { consumerLedger, LEASE_MS } from "../../durable-objects/consumer-ledger.ts";
import { defineConsumer } from "../../worker/consumers/define-consumer.ts";
import { ConsumerRegistry } from "../../worker/consumers/registry.ts";
import { queueRetryPolicy, retryDelaySeconds } from "../../worker/consumers/retry-delay.ts";
import { handleQueue } from "../../worker/queue-handler.ts";
import { testCatalog } from "../support/test-catalog.ts";
import {
  AUDIT,
  callsOf,
  captureLogsOfEachTest,
  effectsOf,
  failNext,
  MAILER,
  testConsumers,
  welcomeMessage,
} from "./support/test-consumers.ts";

/** What the runtime reports after the Worker's queue() handler ran a batch. */
interface QueueResult {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean; delaySeconds?: number };
  explicitAcks: string[];
  retryMessages: { msgId: string; delaySeconds?: number }[];
}

/** The Worker's queue() handler through the runtime (the service_binding_extra_handlers flag). */
const worker = exports.default as unknown as {
  queue(queue: string, messages: ReturnType<typeof delivery>[]): Promise<QueueResult>;
};

/** One message as the queue runtime hands it to the Worker's queue() handler. */
function delivery(body: unknown, attempts = 1, id = crypto.randomUUID()) {
  return { id, timestamp: new Date(), attempts, body };
}

const logs = captureLogsOfEachTest();

describe("the Worker's queue() handler, one batch at a time", () => {
  it("acknowledges each message on its own and retries only the one that failed", async () => {
    const [ok1, bad, ok2] = [welcomeMessage(), welcomeMessage(), welcomeMessage()];
    failNext(MAILER, bad.event.id, 1);
    const result = await worker.queue("mesh-deliveries", [
      delivery(ok1, 1, "m1"),
      delivery(bad, 1, "m2"),
      delivery(ok2, 1, "m3"),
    ]);
    expect(result.outcome).toBe("ok");
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(false);
    expect([...result.explicitAcks].sort()).toEqual(["m1", "m3"]);
    expect(result.retryMessages).toEqual([{ msgId: "m2", delaySeconds: 0 }]);
    expect(effectsOf(MAILER, ok1.event.id)).toBe(1);
    expect(effectsOf(MAILER, bad.event.id)).toBe(0);
  });

  it("retries with exponential backoff from msg.attempts", async () => {
    const slowEnv = { ...env, QUEUE_RETRY_FIRST_DELAY_SECONDS: "4", QUEUE_RETRY_MAX_DELAY_SECONDS: "60" };
    for (const attempts of [1, 3, 6]) {
      const message = welcomeMessage();
      failNext(MAILER, message.event.id, 1);
      const batch = createMessageBatch("mesh-deliveries", [delivery(message, attempts, "only")]);
      // getQueueResult does not report delays, so the retry call itself is watched.
      const retry = vi.spyOn(batch.messages[0], "retry");
      const ctx = createExecutionContext();
      await handleQueue(batch, slowEnv, ctx, new ConsumerRegistry(testConsumers));
      expect((await getQueueResult(batch, ctx)).retryMessages).toEqual([{ msgId: "only" }]);
      const [[options]] = retry.mock.calls;
      const delay = options?.delaySeconds ?? -1;
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(60, 4 * 2 ** (attempts - 1)));
    }
  });

  it("holds back a delivery whose event another run is processing until that run's lease ends", async () => {
    const message = welcomeMessage();
    const claim = await consumerLedger(env, MAILER).claim(message.event.source, message.event.id);
    expect(claim.ok).toBe(true);
    const result = await worker.queue("mesh-deliveries", [delivery(message, 1, "held")]);
    const [retry] = result.retryMessages;
    expect(retry.msgId).toBe("held");
    expect(retry.delaySeconds).toBeGreaterThan(LEASE_MS / 1000 - 5);
    expect(retry.delaySeconds).toBeLessThanOrEqual(LEASE_MS / 1000);
    expect(callsOf(MAILER, message.event.id)).toBe(0);
    // The other consumer of the type was not held back.
    expect(effectsOf(AUDIT, message.event.id)).toBe(1);
  });

  it("acknowledges and logs a message whose body is not a queue message, since retrying cannot fix it", async () => {
    const result = await worker.queue("mesh-deliveries", [delivery({ hello: "world" }, 1, "junk")]);
    expect(result.explicitAcks).toEqual(["junk"]);
    expect(logs.lines().find((l) => l.msg === "queue message invalid")).toMatchObject({ messageId: "junk" });
  });

  it("acknowledges a message that no consumer handles", async () => {
    const message = welcomeMessage("queue-tests", "SomethingNobodyHandles");
    const result = await worker.queue("mesh-deliveries", [delivery(message, 1, "nobody")]);
    expect(result.explicitAcks).toEqual(["nobody"]);
  });

  it("fails a redrive that names a consumer this deployment does not have, keeping the error", async () => {
    const message = { ...welcomeMessage(), consumer: "gone-consumer" };
    const result = await worker.queue("mesh-deliveries", [delivery(message, 1, "gone")]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(["gone"]);
    expect(await consumerLedger(env, "gone-consumer").status(message.event.source, message.event.id)).toMatchObject({
      state: "failed",
      attempts: 1,
      lastError: 'Error: no consumer named "gone-consumer" is registered',
    });
  });

  it("fails an attempt whose data does not match the catalog schema of its type", async () => {
    const message = welcomeMessage();
    message.event.data = { userId: "u1" };
    const result = await worker.queue("mesh-deliveries", [delivery(message, 1, "mismatch")]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual(["mismatch"]);
    expect(callsOf(MAILER, message.event.id)).toBe(0);
    const status = await consumerLedger(env, MAILER).status(message.event.source, message.event.id);
    expect(status?.lastError).toMatch(/^ValiError: /);
  });

  it("refuses a batch from a queue it does not consume", async () => {
    const batch = createMessageBatch("some-other-queue", [delivery(welcomeMessage())]);
    await expect(handleQueue(batch, env, createExecutionContext(), new ConsumerRegistry())).rejects.toThrow(
      'no handler for queue "some-other-queue"',
    );
  });
});

describe("declaring consumers", () => {
  it("refuses a bad name, an empty type list, a type outside the catalog and a name used twice", () => {
    const handler = async () => {};
    expect(() => defineConsumer(testCatalog, { name: "Bad:Name", types: ["MemberJoined"], handler })).toThrow(
      /breaks the rule/,
    );
    expect(() => defineConsumer(testCatalog, { name: "none", types: [], handler })).toThrow(/handles no event types/);
    // @ts-expect-error: the type system already refuses a type outside the catalog
    expect(() => defineConsumer(testCatalog, { name: "odd", types: ["NotInCatalog"], handler })).toThrow(
      /not a catalog event type/,
    );
    const registry = new ConsumerRegistry();
    registry.register(defineConsumer(testCatalog, { name: "twice", types: ["MemberJoined"], handler }));
    expect(() =>
      registry.register(defineConsumer(testCatalog, { name: "twice", types: ["MemberJoined"], handler })),
    ).toThrow(/already registered/);
  });

  it("routes by event type and lets a redrive name one consumer", () => {
    const registry = new ConsumerRegistry();
    const handler = async () => {};
    registry.register(
      defineConsumer(testCatalog, { name: "a", types: ["MemberJoined", "GreetingSent"], handler }),
      defineConsumer(testCatalog, { name: "b", types: ["GreetingSent"], handler }),
    );
    expect(registry.forType("GreetingSent").map((c) => c.name)).toEqual(["a", "b"]);
    expect(registry.forType("MemberJoined").map((c) => c.name)).toEqual(["a"]);
    expect(registry.forType("Unknown")).toEqual([]);
  });

  it("computes retry delays from the configured backoff", () => {
    const policy = queueRetryPolicy({ QUEUE_RETRY_FIRST_DELAY_SECONDS: "2", QUEUE_RETRY_MAX_DELAY_SECONDS: "300" });
    expect([1, 2, 3, 4, 10].map((attempt) => retryDelaySeconds(attempt, policy, () => 0.999999))).toEqual([
      2, 4, 8, 16, 300,
    ]);
    expect(retryDelaySeconds(5, policy, () => 0)).toBe(0);
    expect(() => queueRetryPolicy({ QUEUE_RETRY_FIRST_DELAY_SECONDS: "-1" })).toThrow(
      /QUEUE_RETRY_FIRST_DELAY_SECONDS/,
    );
    expect(() => queueRetryPolicy({ QUEUE_RETRY_MAX_DELAY_SECONDS: "99999" })).toThrow(/at most|0 to 43200/);
  });
});
