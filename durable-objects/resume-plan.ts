import type { GapFrame } from "../protocol/frames.ts";
import type { LogPosition } from "./log-store.ts";

/** Where a subscription starts reading, and the gap frame its client is owed first, if any. */
export type ResumePlan =
  | { ok: true; cursor: number; gap: GapFrame | null }
  | { ok: false; code: "cursor_ahead"; message: string };

/**
 * Plans where a subscriber asking for events after `after` (of the log epoch `epoch`, when it
 * knows one) starts: a cursor of another epoch starts over from the oldest event (`epoch` gap), a
 * cursor older than the oldest retained event starts there (`retention` gap), and a cursor beyond
 * the head of the same epoch was never handed out by this log (`cursor_ahead`).
 */
export function planResume(topic: string, position: LogPosition, after: number, epoch?: string): ResumePlan {
  if (epoch !== undefined && epoch !== position.epoch) {
    return { ok: true, cursor: position.oldest - 1, gap: gapFrame(topic, after, position, "epoch") };
  }
  if (after > position.head) {
    return {
      ok: false,
      code: "cursor_ahead",
      message: `after=${after} is beyond the head of the topic (${position.head})`,
    };
  }
  if (after < position.oldest - 1) {
    return { ok: true, cursor: position.oldest - 1, gap: gapFrame(topic, after, position, "retention") };
  }
  return { ok: true, cursor: after, gap: null };
}

export function gapFrame(topic: string, after: number, position: LogPosition, reason: GapFrame["reason"]): GapFrame {
  return { type: "gap", topic, after, oldest: position.oldest, epoch: position.epoch, reason };
}
