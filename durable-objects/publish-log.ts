import { logLine } from "../runtime/log.ts";

/** What one write step of a topic's publishes did. */
export interface PublishStep {
  calls: number;
  appended: number;
  duplicates: number;
}

/** At most one `publish` line a second for a topic. */
const INTERVAL_MS = 1_000;

/**
 * Sums a topic's write steps into one `publish` line a second at most: a busy topic would otherwise
 * write a line per step, one per publish for a lone publisher. The first step after a quiet second
 * is logged at once; the steps after it wait for the rest of that second, and a timer writes them
 * then, so every step is in some line.
 */
export class PublishLog {
  private sum: (PublishStep & { steps: number }) | null = null;
  private topic = "";
  private head = 0;
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | null = null;

  record(topic: string, step: PublishStep, head: number): void {
    const sum = this.sum ?? { steps: 0, calls: 0, appended: 0, duplicates: 0 };
    sum.steps += 1;
    sum.calls += step.calls;
    sum.appended += step.appended;
    sum.duplicates += step.duplicates;
    this.sum = sum;
    this.topic = topic;
    this.head = head;
    const wait = this.lastLineAt + INTERVAL_MS - Date.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.sum === null) return;
    logLine("publish", { topic: this.topic, ...this.sum, head: this.head });
    this.sum = null;
    this.lastLineAt = Date.now();
  }
}
