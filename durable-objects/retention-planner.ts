/**
 * Retention decisions as pure functions: how far the log may be cut now, and when the next cut
 * falls due, so a topic with nothing to trim sleeps until its next expiry instead of waking on a
 * timer. The Durable Object only reads the figures, deletes in bounded chunks and arms its alarm.
 */

export interface RetentionPolicy {
  maxAgeSeconds: number;
  maxEvents: number;
  maxBytes: number;
  dedupWindowSeconds: number;
  /** Keep events until every durable subscription has passed them, within `maxBytes`. */
  protectSubscriptions: boolean;
}

/** Where the log stands, as the planner needs it. */
export interface LogFigures {
  head: number;
  /** Seq of the oldest retained event; `head + 1` when none is. */
  oldest: number;
  /** Seq of the newest event older than the age limit; 0 when none is. */
  agedUpTo: number;
  /** Seq up to which events must go to fit the byte limit; 0 when they fit. */
  oversizeUpTo: number;
  /** The lowest cursor of the topic's durable subscriptions; null when there are none. */
  subscriptionFloor: number | null;
}

export interface TrimPlan {
  /** Events with seq <= cut go (0: none). */
  cut: number;
  /** True when a subscription holds events the age or count limit would drop. */
  heldBySubscription: boolean;
}

/**
 * How far to cut: the age and count limits, held back to the slowest subscription's cursor when
 * subscriptions are protected; the byte limit always applies, since it protects the object itself.
 */
export function planTrim(log: LogFigures, policy: RetentionPolicy): TrimPlan {
  const byLimits = Math.max(log.agedUpTo, log.head - policy.maxEvents, 0);
  const floor = policy.protectSubscriptions ? log.subscriptionFloor : null;
  const allowed = floor === null ? byLimits : Math.min(byLimits, floor);
  const cut = Math.max(allowed, log.oversizeUpTo);
  return {
    cut: cut >= log.oldest ? cut : 0,
    heldBySubscription: byLimits >= log.oldest && cut < byLimits,
  };
}

/** How long a topic whose cut is held back by a lagging subscription waits before looking again. */
export const HELD_BACK_RECHECK_MS = 60_000;

/**
 * When the next trim falls due, after a trim (or an append) left the log as `log` says: now when
 * a limit is already crossed (a chunked trim goes on), else when the oldest event or dedup key
 * is past its age. Null when nothing is retained: the topic sleeps.
 *
 * The cuts take what is strictly older than a limit, so the oldest row goes one millisecond after
 * it reaches its age; a trim planned at that age itself removes nothing and plans the same moment
 * again (measured: an alarm re-armed, from its own run, at the time it runs for, which local workerd
 * then never fired, and retention stopped for good under load).
 */
export function nextTrimAt(
  now: number,
  log: LogFigures & { oldestAt: number | null; oldestDedupAt: number | null },
  policy: RetentionPolicy,
): number | null {
  const plan = planTrim(log, policy);
  if (plan.cut > 0) return now;
  const times: number[] = [];
  // Events a subscription holds are past their age: look again later, not in a loop.
  if (plan.heldBySubscription) times.push(now + HELD_BACK_RECHECK_MS);
  else if (log.oldestAt !== null) times.push(log.oldestAt + policy.maxAgeSeconds * 1000 + 1);
  if (log.oldestDedupAt !== null) times.push(log.oldestDedupAt + policy.dedupWindowSeconds * 1000 + 1);
  return times.length === 0 ? null : Math.max(now, Math.min(...times));
}
