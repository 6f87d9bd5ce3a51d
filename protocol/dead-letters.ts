import * as v from "valibot";
import { SeqSchema, StoredEventSchema } from "./mesh-event.ts";

/**
 * An event that could not be delivered: either by a durable subscription (after its retry policy
 * ran out) or by a queue consumer (after the queue's retries). One shape for both sources, so
 * one API lists, inspects, redrives and deletes them.
 */
export const DeadLetterSchema = v.object({
  /** Stable id: `sub:<topic>:<subscription>:<seq>` or `queue:<consumer>:<n>`. */
  id: v.string(),
  kind: v.picklist(["subscription", "queue"]),
  topic: v.string(),
  seq: SeqSchema,
  /** Set for kind "subscription". */
  subscription: v.nullable(v.string()),
  /** Set for kind "queue". */
  consumer: v.nullable(v.string()),
  attempts: v.number(),
  firstFailureAt: v.string(),
  lastFailureAt: v.string(),
  lastError: v.string(),
  event: StoredEventSchema,
});
export type DeadLetter = v.InferOutput<typeof DeadLetterSchema>;
