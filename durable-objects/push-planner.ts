import { type BackoffPolicy, backoffDelay } from "../protocol/backoff.ts";
import type { HubPushResult } from "./hub-rpc.ts";
import type { StoredRow } from "./log-store.ts";

/** Bounds of one push and of the recent rows the topic keeps in memory for pushes. */
export interface RowLimits {
  maxRows: number;
  /** Characters of the rows' JSON. */
  maxChars: number;
}

/** One push carries at most this much: a hub far behind catches up in several pushes. */
export const PUSH_LIMITS: RowLimits = { maxRows: 1000, maxChars: 1 << 20 };
/**
 * Most recent rows kept for pushes, shared by every hub; older ones are read from the log. A row
 * leaves as soon as every hub whose position is known holds it (`Outbox.release`): these limits
 * bound only what hubs that are slow, failing or of unknown position keep waiting.
 */
export const OUTBOX_LIMITS: RowLimits = { maxRows: 2000, maxChars: 4 << 20 };
/** Retries of a failed push (hub overloaded, reset, unreachable). */
export const PUSH_BACKOFF: BackoffPolicy = { firstDelayMs: 100, maxDelayMs: 10_000 };
/**
 * Failed pushes in a row retried on a timer; past them the hub is retried only by the topic's alarm
 * (`hubs_due`), so a hub that stays down neither keeps the topic awake nor costs a send per publish.
 */
export const PUSH_TIMED_RETRIES = 8;

/** What the topic knows of one attached hub, in memory only. */
export interface Link {
  hub: string;
  /** The hub holds the topic's events up to here; null after the topic's restart until the hub answers. */
  acked: number | null;
  /** Changed by every attach: an answer to a push sent under an older one must not drop the hub. */
  generation: number;
  /** One push per hub at a time keeps the hub's events in order; rows committed meanwhile go in the next. */
  inFlight: boolean;
  /** Failed pushes in a row; 0 after any answer. */
  failures: number;
  /**
   * A retry is pending: on a timer (the timer checks it is still this object when it fires) or on
   * the alarm. Publishes leave such a link alone.
   */
  retry: { dueAt: number } | "alarm" | null;
}

export function newLink(hub: string, acked: number | null, generation: number): Link {
  return { hub, acked, generation, inFlight: false, failures: 0, retry: null };
}

/**
 * What to send a hub next: nothing, or the rows after `prev`, from the recent rows in memory or
 * from the log, or no rows at all (a probe asking the hub where it stands).
 */
export type PushPlan = { kind: "idle" } | { kind: "send"; prev: number; source: "outbox" | "log" | "probe" };

/**
 * Plans a link's next push. A hub whose position is unknown (the topic restarted) is sent the
 * recent rows as they are, `prev` just before the first: it answers `behind` if it lacks earlier
 * ones; with no recent rows it is probed only when asked to (`probe`, the alarm's sync).
 */
export function planPush(acked: number | null, head: number, outboxFirst: number | null, probe = false): PushPlan {
  if (acked === null) {
    if (outboxFirst !== null) return { kind: "send", prev: outboxFirst - 1, source: "outbox" };
    return probe ? { kind: "send", prev: head, source: "probe" } : { kind: "idle" };
  }
  if (acked >= head) return { kind: "idle" };
  const inOutbox = outboxFirst !== null && acked >= outboxFirst - 1;
  return { kind: "send", prev: acked, source: inOutbox ? "outbox" : "log" };
}

/** The first rows that fit in `limits`; always at least one, so an oversized row still moves. */
export function takeRows(rows: readonly StoredRow[], limits: RowLimits): StoredRow[] {
  let chars = 0;
  let n = 0;
  for (const row of rows) {
    if (n >= limits.maxRows || (n > 0 && chars + row.body.length > limits.maxChars)) break;
    chars += row.body.length;
    n += 1;
  }
  return rows.slice(0, n);
}

/**
 * The push's `oldest` when the rows read from the log after `prev` do not start at `prev + 1`:
 * retention removed the events between before the hub got them, and the hub must say so (gap).
 */
export function trimmedOldest(prev: number, rows: readonly StoredRow[], head: number): number | undefined {
  const first = rows.length > 0 ? rows[0].seq : head + 1;
  return first > prev + 1 ? first : undefined;
}

/** What happens to a link after a push's answer or failure. */
export type Settlement =
  /** Go on from `acked` (the hub's own head): push more if the topic is further. */
  | { kind: "next"; acked: number | null }
  /** The hub has no subscriber of the topic: forget it. */
  | { kind: "drop" }
  /** Send again after `delayMs`, or on the alarm when `delayMs` is null. */
  | { kind: "retry"; failures: number; delayMs: number | null };

/** What a settled push was sent under. */
export interface SentPush {
  generation: number;
  prev: number;
}

/**
 * Settles a push. The hub's answered head is the truth, `behind` included (the next push re-reads
 * from there). A `not_subscribed` only drops the hub if it has not attached again since the push
 * left. A thrown error keeps the link's position, so the rows are sent again (read from the log if
 * they left memory); so does a `behind` that is not (the hub holds `prev`), which would otherwise
 * resend the same push forever.
 */
export function settle(
  link: Link,
  sent: SentPush,
  answer: HubPushResult | Error,
  random: () => number = Math.random,
): Settlement {
  const refused = !(answer instanceof Error) && !answer.ok && answer.code === "behind" && answer.head >= sent.prev;
  if (answer instanceof Error || refused) {
    const failures = link.failures + 1;
    const delayMs = failures > PUSH_TIMED_RETRIES ? null : backoffDelay(failures, PUSH_BACKOFF, random);
    return { kind: "retry", failures, delayMs };
  }
  if (answer.ok || answer.code === "behind") return { kind: "next", acked: answer.head };
  return sent.generation === link.generation ? { kind: "drop" } : { kind: "next", acked: link.acked };
}

/**
 * The topic's most recent rows, contiguous and ascending, bounded: pushes take their rows from here
 * without touching SQLite while hubs keep up. Rows every hub holds are released at once, so while
 * hubs keep up a row lives here only for its push (see `release`).
 */
export class Outbox {
  private rows: StoredRow[] = [];
  private chars = 0;

  constructor(private readonly limits: RowLimits = OUTBOX_LIMITS) {}

  /** Seq of the oldest row held; null when none is. */
  get first(): number | null {
    return this.rows.length > 0 ? this.rows[0].seq : null;
  }

  /** Rows held. */
  get size(): number {
    return this.rows.length;
  }

  /** Adds rows that follow the last one held (otherwise starts over from them), dropping the oldest past the limits. */
  append(rows: readonly StoredRow[]): void {
    if (rows.length === 0) return;
    const last = this.rows[this.rows.length - 1];
    if (last && rows[0].seq !== last.seq + 1) this.clear();
    this.rows.push(...rows);
    for (const row of rows) this.chars += row.body.length;
    let drop = 0;
    while (
      drop < this.rows.length - 1 &&
      (this.rows.length - drop > this.limits.maxRows || this.chars > this.limits.maxChars)
    ) {
      this.chars -= this.rows[drop].body.length;
      drop += 1;
    }
    if (drop > 0) this.rows = this.rows.slice(drop);
  }

  /** The held rows after `prev` that fit in `limits`; `prev` must be at or after `first - 1`. */
  after(prev: number, limits: RowLimits): StoredRow[] {
    const first = this.first;
    if (first === null) return [];
    const start = Math.max(0, prev + 1 - first);
    return takeRows(this.rows.slice(start, start + limits.maxRows), limits);
  }

  /**
   * Drops the rows up to `seq`: every hub holds them. Kept until the limits dropped them, rows that
   * hubs had long taken lived seconds at 1,000 events/s, long enough for the isolate to promote
   * each one to its old generation, which then grew by the whole stream between full collections
   * (the slow-reader test: workerd +108 MB for 22 MB published, its live heap 10 MB).
   */
  release(seq: number): void {
    const first = this.first;
    if (first === null || seq < first) return;
    const drop = Math.min(this.rows.length, seq - first + 1);
    for (let i = 0; i < drop; i += 1) this.chars -= this.rows[i].body.length;
    this.rows = drop === this.rows.length ? [] : this.rows.slice(drop);
  }

  clear(): void {
    this.rows = [];
    this.chars = 0;
  }
}
