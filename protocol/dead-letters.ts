import type { JsonObject } from "./json.ts";

/**
 * An event that could not be delivered: either by a durable subscription (after its retry policy
 * ran out) or by a queue consumer (after the queue's retries). One shape for both sources, so
 * one API lists, inspects, redrives and deletes them.
 */
export interface DeadLetter extends JsonObject {
  /** Stable id: `sub:<topic>:<subscription>:<seq>` or `queue:<consumer>:<n>`. */
  id: string;
  kind: "subscription" | "queue";
  topic: string;
  seq: number;
  /** Set for kind "subscription". */
  subscription: string | null;
  /** Set for kind "queue". */
  consumer: string | null;
  attempts: number;
  firstFailureAt: string;
  lastFailureAt: string;
  lastError: string;
  event: JsonObject;
}
