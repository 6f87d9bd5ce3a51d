import * as v from "valibot";
import { deadLetterStore } from "../../durable-objects/dead-letter-store.ts";
import type { QueueDeadLetterFilter } from "../../durable-objects/dead-letter-table.ts";
import { type DeadLetterRef, parseDeadLetterId } from "../../protocol/dead-letter-id.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import { type QueueMessage, QueueMessageSchema } from "../../protocol/queue-message.ts";
import type { Env } from "../../runtime/env.ts";
import { logLine } from "../../runtime/log.ts";
import type { TopicScope } from "../auth/access.ts";

export type QueueRef = Extract<DeadLetterRef, { kind: "queue" }>;

/**
 * Store reads one page may spend for a credential that administers only some topics: after that
 * many reads of mostly other topics' queue dead letters, the page stops short, with a cursor to
 * read on, rather than scanning the whole store.
 */
const SCOPED_QUEUE_READS = 10;

const nOf = (deadLetter: DeadLetter) => (parseDeadLetterId(deadLetter.id) as QueueRef).n;

/**
 * Up to `limit` queue dead letters (kept in the DeadLetterStore) after n `after`, in the order they
 * were recorded, of the topics `scope` covers. `resumeAfter` is set when the reads ran out first:
 * the n the listing goes on after.
 */
export async function queueDeadLetterPage(
  env: Env,
  filter: QueueDeadLetterFilter,
  after: number,
  limit: number,
  scope: TopicScope,
): Promise<{ deadLetters: DeadLetter[]; resumeAfter: number | null }> {
  const store = deadLetterStore(env);
  if (scope.all) return { deadLetters: await store.page(filter, after, limit), resumeAfter: null };
  const kept: DeadLetter[] = [];
  let from = after;
  for (let reads = 0; reads < SCOPED_QUEUE_READS; reads++) {
    const rows = await store.page(filter, from, limit);
    kept.push(...rows.filter((d) => scope.covers(d.topic)));
    if (kept.length >= limit || rows.length < limit) return { deadLetters: kept.slice(0, limit), resumeAfter: null };
    from = nOf(rows[rows.length - 1]);
  }
  return { deadLetters: kept, resumeAfter: from };
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
