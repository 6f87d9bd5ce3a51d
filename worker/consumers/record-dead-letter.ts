import { consumerLedger } from "../../durable-objects/consumer-ledger.ts";
import { deadLetterStore } from "../../durable-objects/dead-letter-store.ts";
import type { JsonObject } from "../../protocol/json.ts";
import type { QueueMessage } from "../../protocol/queue-message.ts";
import type { Env } from "../../runtime/env.ts";
import { logLine } from "../../runtime/log.ts";
import { messageFields, targetConsumers } from "./deliver.ts";
import type { ConsumerRegistry } from "./registry.ts";

/**
 * Records a message that the dead-letter queue received: one dead letter for each of its consumers
 * that has not done the event (those that succeeded before the others gave up are left alone). The
 * error and the failed-attempt count come from the consumer's ledger, since a queue message carries
 * neither.
 */
export async function recordDeadLetter(
  message: QueueMessage,
  dlqAttempt: number,
  env: Env,
  registry: ConsumerRegistry,
): Promise<void> {
  const { consumer: _redriveTarget, ...resend } = message;
  const now = new Date().toISOString();
  const consumers = targetConsumers(message, registry);
  // Only a deployment that dropped the type's consumers since the message was sent gets here.
  if (consumers.length === 0) logLine("dead letter has no consumer", messageFields(message, dlqAttempt));
  for (const consumer of consumers) {
    const status = await consumerLedger(env, consumer).status(message.event.source, message.event.id);
    const fields = { ...messageFields(message, dlqAttempt), consumer };
    if (status?.state === "done") {
      logLine("dead letter skipped: consumer already done", fields);
      continue;
    }
    const deadLetter = await deadLetterStore(env).record({
      consumer,
      topic: message.topic,
      seq: message.seq,
      source: message.event.source,
      eventId: message.event.id,
      event: message.event as JsonObject,
      message: JSON.stringify(resend),
      attempts: Math.max(status?.attempts ?? 0, 1),
      lastError: status?.lastError ?? "no failure was recorded: the consumer's run ended before it could record one",
      firstFailureAt: status?.firstFailureAt ?? now,
      lastFailureAt: status?.lastFailureAt ?? now,
    });
    logLine("queue dead letter", {
      ...fields,
      id: deadLetter.id,
      attempts: deadLetter.attempts,
      error: deadLetter.lastError,
    });
  }
}
