import { backoffDelay } from "../protocol/backoff.ts";
import type { RetryPolicy } from "../protocol/subscriptions.ts";

/**
 * The decisions of subscription delivery as pure functions: where a cursor starts, what the next
 * delivery holds, and what a failure leads to. The Durable Object only reads, sends and stores.
 */

/** A position asked for by a start or a seek: the next event delivered is `seq`. */
export type Position = "earliest" | "latest" | number;

export type CursorResult =
  | { ok: true; cursor: number }
  | { ok: false; code: "cursor_ahead" | "cursor_expired"; message: string; oldest: number; head: number };

/**
 * The cursor (last seq passed) for a position. A seq older than the oldest retained event or
 * beyond `head + 1` is refused rather than quietly moved, so a replay never skips silently.
 */
export function cursorFor(position: Position, log: { head: number; oldest: number }): CursorResult {
  if (position === "earliest") return { ok: true, cursor: log.oldest - 1 };
  if (position === "latest") return { ok: true, cursor: log.head };
  if (position > log.head + 1) {
    return {
      ok: false,
      code: "cursor_ahead",
      message: `seq ${position} is beyond the head of the topic (${log.head}); the latest position is ${log.head + 1}`,
      oldest: log.oldest,
      head: log.head,
    };
  }
  if (position < log.oldest) {
    return {
      ok: false,
      code: "cursor_expired",
      message: `seq ${position} is no longer retained; the oldest retained seq is ${log.oldest}`,
      oldest: log.oldest,
      head: log.head,
    };
  }
  return { ok: true, cursor: position - 1 };
}

export type NextStep<T extends { seq: number }> =
  /** Send these rows; on success the cursor moves to `end`. */
  | { kind: "send"; rows: T[]; end: number }
  /** Nothing to send up to `cursor` (filtered out, or trimmed by retention): move the cursor there. */
  | { kind: "skip"; cursor: number }
  /** The cursor is at the head. */
  | { kind: "idle" };

/**
 * What the next delivery holds, given the rows read after the cursor (at most one batch, already
 * filtered by type) and the subscription's `filters` as `takes`. A batch being retried keeps its
 * end (`batchEnd`), so a retry carries the same events and the same webhook id even if more events
 * arrived meanwhile. Rows the filters refuse are passed, not sent: a read with none taken skips to
 * its last row, and a batch holds the taken rows of the read (fewer than `batchSize` when some are
 * refused), so one step's work stays bounded by one read.
 */
export function nextStep<T extends { seq: number }>(
  cursor: number,
  head: number,
  batchEnd: number | null,
  rows: T[],
  takes: ((row: T) => boolean) | null = null,
): NextStep<T> {
  const taken = takes === null ? rows : rows.filter(takes);
  if (batchEnd !== null) {
    const batch = taken.filter((r) => r.seq <= batchEnd);
    return batch.length > 0 ? { kind: "send", rows: batch, end: batchEnd } : { kind: "skip", cursor: batchEnd };
  }
  if (taken.length > 0) return { kind: "send", rows: taken, end: taken[taken.length - 1].seq };
  if (rows.length > 0) return { kind: "skip", cursor: rows[rows.length - 1].seq };
  return cursor < head ? { kind: "skip", cursor: head } : { kind: "idle" };
}

export type FailureOutcome =
  | { kind: "retry"; attempts: number; firstFailureAt: number; delayMs: number; nextAttemptAt: number }
  /** Attempts ran out: record dead letters and move on. */
  | { kind: "dead-letter"; attempts: number; firstFailureAt: number }
  /** Attempts ran out: stop on this event until resumed. */
  | { kind: "pause"; attempts: number; firstFailureAt: number };

/**
 * After a failed attempt: retry after an exponential, fully jittered delay, or, once `maxAttempts`
 * attempts have failed, give the event up the way the policy says.
 */
export function afterFailure(
  previous: { attempts: number; firstFailureAt: number | null },
  policy: RetryPolicy,
  onExhausted: "dead-letter" | "pause",
  now: number,
  random: () => number = Math.random,
): FailureOutcome {
  const attempts = previous.attempts + 1;
  const firstFailureAt = previous.firstFailureAt ?? now;
  if (attempts >= policy.maxAttempts) return { kind: onExhausted, attempts, firstFailureAt };
  const delayMs = backoffDelay(attempts, policy, random);
  return { kind: "retry", attempts, firstFailureAt, delayMs, nextAttemptAt: now + delayMs };
}

/** The earliest of some due times; null when none is set. */
export function earliest(...times: (number | null)[]): number | null {
  let min: number | null = null;
  for (const t of times) if (t !== null && (min === null || t < min)) min = t;
  return min;
}

/**
 * Work due at or before this time runs now. An alarm runs the work it was armed for even when the
 * clock reads a little earlier (an alarm can be run early, as `runDurableObjectAlarm` does).
 */
export function dueCutoff(now: number, armedAt: number | null): number {
  return Math.max(now, armedAt ?? 0);
}

/** Sends of one alarm run at most, every subscription together: a run stays well inside one invocation's subrequest limit. */
export const MAX_SENDS_PER_RUN = 500;
/** How long one alarm run starts new sends; then it hands over to a fresh run (due at once). */
export const RUN_BUDGET_MS = 10_000;
/**
 * While a subscription catches up, its cursor is written at most this often. Every write is a
 * commit that the next outgoing request waits for (the output gate), so writing after each
 * delivery would cost a disk sync per delivery; a crash redelivers at most this much (at least once).
 */
export const CHECKPOINT_MS = 250;

/** What is left of one alarm run: sends, shared by every subscription, and time. */
export class RunBudget {
  private sends: number;
  private readonly until: number;

  constructor(now: number, sends = MAX_SENDS_PER_RUN, ms = RUN_BUDGET_MS) {
    this.sends = sends;
    this.until = now + ms;
  }

  /** Takes one send; false once the run has spent its sends or its time (it then ends, due again at once). */
  take(now: number): boolean {
    if (this.sends <= 0 || now >= this.until) return false;
    this.sends -= 1;
    return true;
  }

  /** The run's time is spent: work that sends nothing (passing filtered-out events) stops too. */
  expired(now: number): boolean {
    return now >= this.until;
  }
}

/** True when a catching-up subscription writes its cursor (and renews its lease) before its next send. */
export function checkpointDue(lastCheckpointAt: number | null, now: number): boolean {
  return lastCheckpointAt === null || now - lastCheckpointAt >= CHECKPOINT_MS;
}

/**
 * Deliveries of an unordered subscription that may wait for a retry at once. Past it, no new
 * events are handed out until some resolve (delivered, dead-lettered): rows and memory stay bounded
 * however many events fail.
 */
export const MAX_RETRYING_DELIVERIES = 100;

/** How many new deliveries an unordered subscription may start now. */
export function dispatchRoom(maxInFlight: number, inFlight: number, retrying: number): number {
  if (retrying >= MAX_RETRYING_DELIVERIES) return 0;
  return Math.max(0, maxInFlight - inFlight);
}
