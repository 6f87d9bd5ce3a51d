import * as v from "valibot";
import { timestampSchema } from "./timestamp.ts";

/**
 * Rewind: where a new subscription (or a history read) starts when it has no cursor of its own.
 * `last: N` starts with the newest N events (`last: 0` is "from now": only events published after
 * the subscribe); `since` starts at the first event the topic's log stored at or after that RFC 3339
 * time. The time is the log's own append time, not the CloudEvents `time` a publisher may set to
 * anything. A rewind is resolved once, to a cursor; from then on the cursor (`after`, `epoch`) is
 * what resumes, so a reconnect continues exactly where the subscriber was.
 */
export const REWIND_MAX_LAST = 1000;

/** `last` as a number (a frame field). */
export const LastSchema = v.pipe(
  v.number("last must be a number"),
  v.integer("last must be an integer"),
  v.minValue(0, "last must be at least 0"),
  v.maxValue(REWIND_MAX_LAST, `last is at most ${REWIND_MAX_LAST}`),
);

/** `last` as a query parameter. */
export const lastParam = (min: 0 | 1) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,4}$/, "last must be a non-negative integer"),
    v.transform(Number),
    v.minValue(min, `last must be at least ${min}`),
    v.maxValue(REWIND_MAX_LAST, `last is at most ${REWIND_MAX_LAST}`),
    v.description(
      min === 0
        ? `Instead of after: start with the newest N events (0 to ${REWIND_MAX_LAST}; 0 is from now).`
        : `Instead of after: the newest N events (1 to ${REWIND_MAX_LAST}).`,
    ),
  );

export const SinceSchema = v.pipe(
  timestampSchema("since"),
  v.description("RFC 3339: start at the first event the topic stored at or after this time."),
);
export const UntilSchema = v.pipe(
  timestampSchema("until"),
  v.description("RFC 3339: end with the last event the topic stored at or before this time."),
);

/** A resolved rewind, as the hub asks a topic's log for it: `since` in epoch milliseconds. */
export type Rewind = { last: number } | { since: number };

/** The start fields a subscribe frame or query may carry. */
export interface StartFields {
  after?: number;
  epoch?: string;
  last?: number;
  since?: string;
}

/** Which start field contradicts the others, and why. */
export interface StartConflict {
  field: keyof StartFields;
  message: string;
}

/**
 * Why the start fields contradict each other, or null when they do not. A cursor (`after`, with
 * its `epoch`) resumes; a rewind starts anew: a subscriber gives one or the other, and one rewind.
 */
export function startConflict(start: StartFields): StartConflict | null {
  if (start.last !== undefined && start.since !== undefined) {
    return { field: "since", message: "give last or since, not both" };
  }
  if (start.last === undefined && start.since === undefined) return null;
  const rewind = start.last !== undefined ? "last" : "since";
  if (start.after !== undefined) {
    const message = `${rewind} starts a new subscription and after resumes one: give after (with its epoch) or ${rewind}, not both`;
    return { field: rewind, message };
  }
  if (start.epoch !== undefined) {
    return { field: "epoch", message: `epoch belongs to an after cursor: ${rewind} takes none` };
  }
  return null;
}

/** The rewind the fields ask for, null when they ask for none (the cursor, default 0, applies). */
export function rewindOf(start: StartFields): Rewind | null {
  if (start.last !== undefined) return { last: start.last };
  if (start.since !== undefined) return { since: Date.parse(start.since) };
  return null;
}
