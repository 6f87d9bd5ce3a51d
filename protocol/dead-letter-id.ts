import * as v from "valibot";
import { isValidConsumerName } from "./consumer-name.ts";
import { isValidSubscriptionName, subscriptionDeadLetterId } from "./subscriptions.ts";
import { isValidTopicName } from "./topic-name.ts";

/** What a dead-letter id points at: a subscription's event or a queue consumer's entry. */
export type DeadLetterRef =
  | { kind: "subscription"; topic: string; subscription: string; seq: number }
  | { kind: "queue"; consumer: string; n: number };

const POSITIVE_INT = /^[1-9]\d{0,14}$/;

/** The two forms of a dead-letter id, for messages and the API description. */
export const DEAD_LETTER_ID_FORMS = "sub:<topic>:<subscription>:<seq> or queue:<consumer>:<n>";

/** A dead-letter id as the API takes it; one that cannot be parsed is simply not found. */
export const DeadLetterIdSchema = v.pipe(v.string(), v.description(`A dead-letter id: ${DEAD_LETTER_ID_FORMS}.`));

/**
 * Reads `sub:<topic>:<subscription>:<seq>` or `queue:<consumer>:<n>`; null for anything else.
 * Topic names may hold `:` but subscription and consumer names may not, so ids parse from the right.
 */
export function parseDeadLetterId(id: string): DeadLetterRef | null {
  const parts = id.split(":");
  const last = parts[parts.length - 1];
  if (parts.length < 3 || !POSITIVE_INT.test(last)) return null;
  if (parts[0] === "queue" && parts.length === 3 && isValidConsumerName(parts[1])) {
    return { kind: "queue", consumer: parts[1], n: Number(last) };
  }
  if (parts[0] === "sub" && parts.length >= 4) {
    const subscription = parts[parts.length - 2];
    const topic = parts.slice(1, -2).join(":");
    if (isValidSubscriptionName(subscription) && isValidTopicName(topic)) {
      return { kind: "subscription", topic, subscription, seq: Number(last) };
    }
  }
  return null;
}

/** The id of a dead letter, the inverse of `parseDeadLetterId`. */
export function formatDeadLetterId(ref: DeadLetterRef): string {
  return ref.kind === "queue"
    ? `queue:${ref.consumer}:${ref.n}`
    : subscriptionDeadLetterId(ref.topic, ref.subscription, ref.seq);
}
