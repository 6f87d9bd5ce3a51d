import * as v from "valibot";

/**
 * The body of a message a queue-target subscription sends. Queues have no headers and no order,
 * so everything a consumer needs rides in the body: the topic and seq (order and dedup), the
 * subscription it came through, and the W3C trace context of the publish.
 */
export const QueueMessageSchema = v.object({
  topic: v.string(),
  seq: v.number(),
  subscription: v.string(),
  event: v.looseObject({ id: v.string(), source: v.string(), type: v.string(), seq: v.number() }),
  traceparent: v.optional(v.string()),
  /** Set by a redrive: only this consumer runs, so others that succeeded are not asked again. */
  consumer: v.optional(v.string()),
});
export type QueueMessage = v.InferOutput<typeof QueueMessageSchema>;
