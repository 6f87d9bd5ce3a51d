import * as v from "valibot";
import type { DeadLetterList } from "../../protocol/dead-letter-api.ts";
import { parseDeadLetterId } from "../../protocol/dead-letter-id.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import { isValidSubscriptionName } from "../../protocol/subscriptions.ts";
import { isValidTopicName } from "../../protocol/topic-name.ts";
import { MeshError } from "../../runtime/mesh-error.ts";

const KEY_NUMBER = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

/**
 * Where a listing resumes: after this key. The listing order is every subscription dead letter
 * (topics in name order, then subscription, then seq), then every queue dead letter by n. Each is
 * its table's key and never changes, so a walk shows each dead letter that exists throughout it
 * exactly once, however many are recorded or removed between its pages.
 */
const PositionSchema = v.variant("kind", [
  v.strictObject({
    kind: v.literal("subscription"),
    topic: v.pipe(v.string(), v.check(isValidTopicName)),
    subscription: v.pipe(v.string(), v.check(isValidSubscriptionName)),
    seq: KEY_NUMBER,
  }),
  v.strictObject({ kind: v.literal("queue"), n: KEY_NUMBER }),
]);
export type DeadLetterPosition = v.InferOutput<typeof PositionSchema>;
export type SubscriptionPosition = Extract<DeadLetterPosition, { kind: "subscription" }>;

/** A page of a listing, and the position of its last dead letter when the listing goes on. */
export interface DeadLetterPage {
  deadLetters: DeadLetter[];
  next: DeadLetterPosition | null;
}

/** The cursor is the position as base64url JSON: opaque to clients, so its form may change. */
function encodeCursor(position: DeadLetterPosition): string {
  return btoa(JSON.stringify(position)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The position a `cursor` query parameter carries; refused with `invalid_query` when it carries none. */
export function decodeCursor(cursor: string): DeadLetterPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    decoded = undefined;
  }
  const result = v.safeParse(PositionSchema, decoded);
  if (result.success) return result.output;
  throw new MeshError("invalid_query", "cursor is not one a dead-letter listing gave: pass next unchanged", {
    param: "cursor",
  });
}

/** The seq a subscription's own listing resumes after; its cursor must come from that listing. */
export function subscriptionSeqAfter(cursor: string | undefined, topic: string, subscription: string): number {
  if (cursor === undefined) return 0;
  const after = decodeCursor(cursor);
  if (after.kind === "subscription" && after.topic === topic && after.subscription === subscription) return after.seq;
  throw new MeshError("invalid_query", "cursor is not one this subscription's listing gave: pass its next unchanged", {
    param: "cursor",
  });
}

/** The position of a dead letter in the listing order. */
function positionOf(deadLetter: DeadLetter): DeadLetterPosition {
  const ref = parseDeadLetterId(deadLetter.id);
  if (ref === null) throw new Error(`dead letter with a malformed id: ${deadLetter.id}`);
  return ref.kind === "queue"
    ? { kind: "queue", n: ref.n }
    : { kind: "subscription", topic: ref.topic, subscription: ref.subscription, seq: ref.seq };
}

/** Dead letters read one past `limit`: the first `limit`, resuming after the last of them when there were more. */
export function pageOf(found: DeadLetter[], limit: number): DeadLetterPage {
  if (found.length <= limit) return { deadLetters: found, next: null };
  const deadLetters = found.slice(0, limit);
  return { deadLetters, next: positionOf(deadLetters[limit - 1]) };
}

/** The answer of a listing. */
export function listAnswer(page: DeadLetterPage): DeadLetterList {
  return {
    deadLetters: page.deadLetters,
    more: page.next !== null,
    next: page.next === null ? null : encodeCursor(page.next),
  };
}
