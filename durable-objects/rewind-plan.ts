import type { Rewind } from "../protocol/rewind.ts";
import type { LogPosition } from "./log-store.ts";

/** What resolving a rewind reads of a topic's log: each an index lookup, none a scan. */
export interface RewindLog {
  position(): LogPosition;
  /** Seq of the first retained event stored at or after `at`; null when none is. */
  firstAtOrAfter(at: number): number | null;
  /** Seq of the last retained event stored at or before `at`; null when none is. */
  lastAtOrBefore(at: number): number | null;
  /** When the newest trimmed event was stored; null when nothing was trimmed. */
  trimmedAt(): number | null;
}

/**
 * The cursor a rewind starts after, in the log's current epoch. `last: N` starts after `end - N`
 * (`end`: the head, or where a history read with `until` ends);
 * `since` just before the first event stored at or after it, or at the head when none is. When
 * events stored at or after `since` were trimmed, the cursor is 0: the reader is then told that
 * events are gone (a `retention` gap on a socket, `cursor_expired` in history), never skipped
 * silently. The cursor then goes through the usual resume planning, exactly as a client's `after`.
 */
export function rewindCursor(log: RewindLog, rewind: Rewind, end = log.position().head): number {
  const { head } = log.position();
  if ("last" in rewind) return Math.max(0, end - rewind.last);
  const trimmedAt = log.trimmedAt();
  if (trimmedAt !== null && trimmedAt >= rewind.since) return 0;
  const first = log.firstAtOrAfter(rewind.since);
  return first === null ? head : first - 1;
}

/**
 * The last seq a history read with `until` may return: the last event stored at or before it, or
 * just before the oldest retained event when every retained one is later.
 */
export function untilSeq(log: RewindLog, until: number): number {
  return log.lastAtOrBefore(until) ?? log.position().oldest - 1;
}
