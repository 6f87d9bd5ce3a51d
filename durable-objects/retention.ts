import type { LogStore } from "./log-store.ts";
import { type LogFigures, nextTrimAt, planTrim, type RetentionPolicy } from "./retention-planner.ts";

/** Rows one trim step deletes at most (events, then dedup keys) before the object serves others. */
export const TRIM_CHUNK_ROWS = 1_000;

export interface RetentionStep {
  removed: number;
  removedKeys: number;
  heldBySubscription: boolean;
  /** When the next step is due; null when nothing is retained and the topic may sleep. */
  nextAt: number | null;
}

/**
 * A topic's retention: reads where the log stands, cuts one bounded chunk when a limit is crossed,
 * and says when to look again. The byte limit counts stored event JSON.
 */
export class Retention {
  constructor(
    private readonly log: LogStore,
    private readonly policy: RetentionPolicy,
    /** The lowest cursor of the topic's durable subscriptions; null when there are none. */
    private readonly subscriptionFloor: () => number | null,
  ) {}

  /** Runs one step if a limit is crossed, and plans the next. */
  step(now: number): RetentionStep {
    const plan = planTrim(this.figures(now), this.policy);
    const done = this.log.trimStep(plan.cut, now - this.policy.dedupWindowSeconds * 1000, TRIM_CHUNK_ROWS);
    return {
      removed: done.removed,
      removedKeys: done.removedKeys,
      heldBySubscription: plan.heldBySubscription,
      nextAt: done.more ? now : this.nextAt(now),
    };
  }

  /** When the next step is due, from where the log stands now. */
  nextAt(now: number): number | null {
    return nextTrimAt(
      now,
      { ...this.figures(now), oldestAt: this.log.oldestAt(), oldestDedupAt: this.log.oldestDedupAt() },
      this.policy,
    );
  }

  /** True when the log is over its count or byte limit: cheap enough to ask after every append. */
  overLimit(): boolean {
    const { head, oldest } = this.log.position();
    return head - oldest + 1 > this.policy.maxEvents || this.log.bytes > this.policy.maxBytes;
  }

  private figures(now: number): LogFigures {
    const { head, oldest } = this.log.position();
    return {
      head,
      oldest,
      agedUpTo: this.log.agedUpTo(now - this.policy.maxAgeSeconds * 1000),
      oversizeUpTo: this.log.oversizeUpTo(this.policy.maxBytes, TRIM_CHUNK_ROWS),
      subscriptionFloor: this.subscriptionFloor(),
    };
  }
}
