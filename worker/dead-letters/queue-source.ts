import * as v from "valibot";
import { deadLetterStore } from "../../durable-objects/dead-letter-store.ts";
import type { DeadLetterRef } from "../../protocol/dead-letter-id.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import { type QueueMessage, QueueMessageSchema } from "../../protocol/queue-message.ts";
import type { Env } from "../../runtime/env.ts";
import { logLine } from "../../runtime/log.ts";

export type QueueRef = Extract<DeadLetterRef, { kind: "queue" }>;

/** Queue dead letters, kept in the DeadLetterStore. */
export async function listQueueDeadLetters(
  env: Env,
  filter: { topic?: string; consumer?: string },
  limit: number,
): Promise<DeadLetter[]> {
  return deadLetterStore(env).list(filter, limit);
}

export async function getQueueDeadLetter(env: Env, ref: QueueRef): Promise<DeadLetter | null> {
  const found = await deadLetterStore(env).get(ref.consumer, ref.n);
  return found.ok ? found.deadLetter : null;
}

export async function deleteQueueDeadLetter(env: Env, ref: QueueRef): Promise<boolean> {
  return (await deadLetterStore(env).delete(ref.consumer, ref.n)).ok;
}

/**
 * Looks up the messages a redrive sends: each dead message again, with `consumer` set so only the
 * consumer that failed runs. Refs that do not exist come back in `missing`, so a redrive can send
 * all or none.
 */
export async function queueRedrives(
  env: Env,
  refs: QueueRef[],
): Promise<{ missing: QueueRef[]; messages: QueueMessage[] }> {
  const store = deadLetterStore(env);
  const found = await Promise.all(refs.map((ref) => store.get(ref.consumer, ref.n)));
  const missing = refs.filter((_, i) => !found[i].ok);
  const messages = found.flatMap((f, i) =>
    f.ok ? [{ ...v.parse(QueueMessageSchema, JSON.parse(f.message)), consumer: refs[i].consumer }] : [],
  );
  return { missing, messages };
}

/**
 * Sends redrives to the delivery queue. The dead letter stays until the redriven message is
 * processed: the consumer's success removes it, and a failure that dies again updates it.
 */
export async function sendQueueRedrives(env: Env, messages: QueueMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await env.DELIVERY_QUEUE.sendBatch(messages.map((body) => ({ body, contentType: "json" as const })));
  for (const m of messages) {
    logLine("queue dead letter redrive", {
      consumer: m.consumer,
      topic: m.topic,
      seq: m.seq,
      eventId: m.event.id,
      traceparent: m.traceparent,
    });
  }
}
