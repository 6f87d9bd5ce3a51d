/**
 * Every line the mesh logs, by its `msg`, with what it means and the fields it carries besides `msg`
 * and `at`: the one list an operator searches logs by (docs/operations.md shows it, and a test keeps
 * the two the same). No line carries a credential.
 */

/** The fields of a queue message, on every line about one: one publish can be followed by its traceparent. */
const MESSAGE = ["topic", "seq", "subscription", "eventId", "source", "type", "attempt", "traceparent", "redrive"];
/** The fields of one delivery of a durable subscription. */
const DELIVERY = ["topic", "subscription", "from", "to", "attempt"];

export const LOG_LINES = {
  publish: {
    says: "a topic's publish calls, their write steps (group commit) and what they appended, summed over up to a second",
    fields: ["topic", "steps", "calls", "appended", "duplicates", "head"],
  },
  retention: {
    says: "retention removed events and dedup keys from a topic",
    fields: ["topic", "removed", "removedKeys"],
  },
  "directory register failed": {
    says: "a topic or a hub could not be listed in the directory yet (retried on its next write or socket)",
    fields: ["topic", "hub", "error"],
  },
  "presence check failed": {
    says: "a topic's presence object could not ask a hub which connections it holds (asked again at the next check)",
    fields: ["topic", "hub", "error"],
  },
  "hubs full": {
    says: "every hub tried for a socket was full; the client was refused with overloaded (1013)",
    fields: ["key", "attempts"],
  },
  delivered: {
    says: "a durable subscription delivered batches: one line per run of successes (strict order) or per batch (unordered)",
    fields: [...DELIVERY, "events", "batches"],
  },
  "delivery failed": {
    says: "a delivery failed and will be retried",
    fields: [...DELIVERY, "error", "retryInMs"],
  },
  "subscription paused": {
    says: "a delivery ran out of attempts and its subscription paused (onExhausted: pause)",
    fields: [...DELIVERY, "error", "attempts"],
  },
  "subscription gap": {
    says: "retention removed events a subscription had not reached; it records the gap and follows onGap",
    fields: ["topic", "subscription", "from", "to", "policy"],
  },
  "subscription dead letter": {
    says: "a delivery ran out of attempts; its events became dead letters and the cursor moved on",
    fields: [...DELIVERY, "error", "attempts"],
  },
  "redrive delivered": {
    says: "redriven subscription dead letters were delivered",
    fields: ["topic", "subscription", "seqs", "attempt"],
  },
  "redrive failed": {
    says: "a redrive of subscription dead letters failed and will be retried",
    fields: ["topic", "subscription", "seqs", "attempt", "error"],
  },
  "redrive gave up": {
    says: "a redrive ran out of attempts; the dead letters stay",
    fields: ["topic", "subscription", "seqs", "attempt", "error"],
  },
  "subscription dead letter redrive": {
    says: "an operator asked for a subscription's dead letters to be delivered again",
    fields: ["topic", "subscription", "seqs"],
  },
  "queue dead letter redrive": {
    says: "an operator asked for a queue consumer's dead letter to be run again",
    fields: ["consumer", "topic", "seq", "eventId", "traceparent"],
  },
  "queue message invalid": {
    says: "a queue message is not one the mesh sends; it is dropped (retrying cannot fix it)",
    fields: ["queue", "messageId", "issue", "body"],
  },
  "queue message error": {
    says: "the mesh itself failed on a queue message (a ledger or store unreachable); it is retried",
    fields: [...MESSAGE, "queue", "error", "delaySeconds"],
  },
  "queue message has no consumer": {
    says: "no consumer handles the message's event type; it is acknowledged",
    fields: MESSAGE,
  },
  "consumer dispatch": { says: "a queue message goes to its consumers", fields: [...MESSAGE, "consumers"] },
  "consumer succeeded": { says: "a consumer's handler ran to the end", fields: [...MESSAGE, "consumer"] },
  "consumer failed": { says: "a consumer's handler threw", fields: [...MESSAGE, "consumer", "error", "failures"] },
  "consumer retry": { says: "the message will be tried again after a delay", fields: [...MESSAGE, "delaySeconds"] },
  "consumer skipped duplicate": {
    says: "the consumer already did this event; the handler did not run",
    fields: [...MESSAGE, "consumer"],
  },
  "consumer busy": {
    says: "another run of the consumer holds this event; the message waits for its lease",
    fields: [...MESSAGE, "consumer", "retryInMs"],
  },
  "queue dead letter": {
    says: "a queue message ran out of retries; the dead-letter store records it for its consumer",
    fields: [...MESSAGE, "consumer", "id", "attempts", "error"],
  },
  "dead letter has no consumer": {
    says: "a dead message names no consumer this deployment still has",
    fields: MESSAGE,
  },
  "dead letter skipped: consumer already done": {
    says: "a consumer that already did the event is not recorded as a dead letter",
    fields: [...MESSAGE, "consumer"],
  },
  "dead letter resolved": {
    says: "a redriven message got through; its dead letter is gone",
    fields: [...MESSAGE, "consumer"],
  },
  "dead letter resolve failed": {
    says: "a redriven message got through but its dead letter could not be removed",
    fields: [...MESSAGE, "consumer", "error"],
  },
  "unhandled error": { says: "a request failed in an unexpected way (answered with 500 internal)", fields: ["error"] },
} as const satisfies Record<string, { says: string; fields: readonly string[] }>;

export type LogMessage = keyof typeof LOG_LINES;
