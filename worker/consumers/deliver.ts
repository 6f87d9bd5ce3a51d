import { consumerLedger } from "../../durable-objects/consumer-ledger.ts";
import { deadLetterStore } from "../../durable-objects/dead-letter-store.ts";
import type { BackoffPolicy } from "../../protocol/backoff.ts";
import type { JsonObject } from "../../protocol/json.ts";
import type { QueueMessage } from "../../protocol/queue-message.ts";
import type { Env } from "../../runtime/env.ts";
import { appLogLine, logLine } from "../../runtime/log.ts";
import type { Consumer } from "./define-consumer.ts";
import type { ConsumerRegistry } from "./registry.ts";
import { retryDelaySeconds } from "./retry-delay.ts";

/** What the queue handler does with a message: acknowledge it, or retry it after a delay. */
export type DeliveryOutcome = { ack: true } | { ack: false; delaySeconds: number };

type RunOutcome = "succeeded" | "duplicate" | { busyForMs: number } | "failed";

export interface DeliveryDeps {
  env: Env;
  executionCtx: ExecutionContext;
  registry: ConsumerRegistry;
  policy: BackoffPolicy;
}

/** The fields every consumer log line carries, so one publish can be followed by its traceparent. */
export function messageFields(message: QueueMessage, attempt: number): Record<string, unknown> {
  return {
    topic: message.topic,
    seq: message.seq,
    subscription: message.subscription,
    eventId: message.event.id,
    source: message.event.source,
    type: message.event.type,
    attempt,
    traceparent: message.traceparent,
    redrive: message.consumer !== undefined,
  };
}

/** A redrive names its consumer; any other message goes to every consumer of its event type. */
export function targetConsumers(message: QueueMessage, registry: ConsumerRegistry): string[] {
  if (message.consumer !== undefined) return [message.consumer];
  return registry.forType(message.event.type).map((c) => c.name);
}

/**
 * Runs one message through each of its consumers, at most once per consumer and event: the
 * consumer's ledger is claimed before the handler runs and marked done after it returns. The
 * message is acknowledged only when every consumer has done it; otherwise it is retried, and the
 * consumers that already succeeded skip it next time.
 */
export async function deliver(message: QueueMessage, attempt: number, deps: DeliveryDeps): Promise<DeliveryOutcome> {
  const fields = messageFields(message, attempt);
  const names = targetConsumers(message, deps.registry);
  if (names.length === 0) {
    logLine("queue message has no consumer", fields);
    return { ack: true };
  }
  logLine("consumer dispatch", { ...fields, consumers: names });
  let busyForMs = 0;
  let failed = false;
  for (const name of names) {
    const outcome = await runConsumer(name, deps.registry.get(name), message, attempt, deps);
    if (outcome === "failed") failed = true;
    else if (typeof outcome === "object") busyForMs = Math.max(busyForMs, outcome.busyForMs);
  }
  if (!failed && busyForMs === 0) return { ack: true };
  // A run still holding its lease either finishes (the retry then finds it done) or died (the
  // retry claims it again): either way nothing can happen before the lease ends.
  const delaySeconds = Math.max(retryDelaySeconds(attempt, deps.policy), Math.ceil(busyForMs / 1000));
  logLine("consumer retry", { ...fields, delaySeconds });
  return { ack: false, delaySeconds };
}

async function runConsumer(
  name: string,
  consumer: Consumer | undefined,
  message: QueueMessage,
  attempt: number,
  { env, executionCtx }: DeliveryDeps,
): Promise<RunOutcome> {
  const fields = { ...messageFields(message, attempt), consumer: name };
  const { source, id } = message.event;
  const ledger = consumerLedger(env, name);
  const claim = await ledger.claim(source, id);
  if (!claim.ok && claim.code === "done") {
    logLine("consumer skipped duplicate", fields);
    if (message.consumer !== undefined) await resolveDeadLetter(env, name, message, fields);
    return "duplicate";
  }
  if (!claim.ok) {
    logLine("consumer busy", { ...fields, retryInMs: claim.retryInMs });
    return { busyForMs: claim.retryInMs };
  }
  try {
    if (consumer === undefined) throw new Error(`no consumer named "${name}" is registered`);
    await consumer.handle(message.event as JsonObject, {
      consumer: name,
      topic: message.topic,
      seq: message.seq,
      subscription: message.subscription,
      attempt,
      traceparent: message.traceparent,
      env,
      executionCtx,
      log: (msg, extra = {}) => appLogLine(msg, { ...fields, ...extra }),
    });
  } catch (err) {
    const error = describeError(err);
    const failures = await ledger.fail(source, id, claim.token, error);
    logLine("consumer failed", { ...fields, error, failures });
    return "failed";
  }
  await ledger.complete(source, id);
  logLine("consumer succeeded", fields);
  if (message.consumer !== undefined) await resolveDeadLetter(env, name, message, fields);
  return "succeeded";
}

/** A redrive that got through removes its dead letter; the effect already happened, so a failure here is only logged. */
async function resolveDeadLetter(env: Env, consumer: string, message: QueueMessage, fields: Record<string, unknown>) {
  try {
    const removed = await deadLetterStore(env).resolve(consumer, message.event.source, message.event.id);
    if (removed) logLine("dead letter resolved", fields);
  } catch (err) {
    logLine("dead letter resolve failed", { ...fields, error: describeError(err) });
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
