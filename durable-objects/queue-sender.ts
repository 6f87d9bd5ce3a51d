import type { JsonObject } from "../protocol/json.ts";
import type { QueueMessage } from "../protocol/queue-message.ts";
import type { SendResult } from "./webhook-sender.ts";

/** Cloudflare Queues take at most 256 KB per sendBatch; stay below it with room for overhead. */
const MAX_BATCH_BYTES = 240 * 1024;
const encoder = new TextEncoder();

/** What delivery needs of a Queue producer binding (declared here so the module runs outside workerd too). */
interface QueueProducer {
  sendBatch(messages: { body: QueueMessage; contentType: "json" }[]): Promise<unknown>;
}

/** The Queue producer binding of that name, or null when the Worker has none. */
export function queueBinding(env: object, name: string): QueueProducer | null {
  const binding = (env as Record<string, unknown>)[name];
  const isQueue = typeof binding === "object" && binding !== null && "sendBatch" in binding;
  return isQueue ? (binding as QueueProducer) : null;
}

/** An event as delivery reads it: its seq and its stored JSON. */
type EventRow = { seq: number; body: string };

/** One queue message per event: queues keep no order and no headers, so seq and trace ride in the body. */
export function queueMessages(topic: string, subscription: string, rows: EventRow[]): QueueMessage[] {
  return rows.map((row) => {
    const event = JSON.parse(row.body) as JsonObject & QueueMessage["event"];
    const message: QueueMessage = { topic, seq: row.seq, subscription, event };
    if (typeof event.traceparent === "string") message.traceparent = event.traceparent;
    return message;
  });
}

/** Splits messages into sendBatch calls under the size limit, keeping seq order. */
export function chunkBySize(messages: QueueMessage[], maxBytes = MAX_BATCH_BYTES): QueueMessage[][] {
  const chunks: QueueMessage[][] = [];
  let current: QueueMessage[] = [];
  let size = 0;
  for (const message of messages) {
    const bytes = encoder.encode(JSON.stringify(message)).byteLength;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(message);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Sends a delivery's events to a Queue. A failure after some chunks went out means those are
 * sent again on retry: queue consumers dedup by `(source, id)`, as at-least-once requires anyway.
 */
export async function sendToQueue(
  env: object,
  queueName: string,
  topic: string,
  subscription: string,
  rows: EventRow[],
): Promise<SendResult> {
  const queue = queueBinding(env, queueName);
  if (!queue) return { ok: false, error: `the Worker has no Queue binding named ${queueName}` };
  try {
    for (const chunk of chunkBySize(queueMessages(topic, subscription, rows))) {
      await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, error: `queue ${queueName} refused the messages: ${(err as Error)?.message ?? String(err)}` };
  }
}
