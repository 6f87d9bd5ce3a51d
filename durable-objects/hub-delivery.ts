import { eventFrameText } from "../protocol/frames.ts";
import type { Applied, Feed } from "./hub-feeds.ts";
import type { HubReplay } from "./hub-replay.ts";
import type { HubSender } from "./hub-sender.ts";
import type { HubSessions } from "./hub-sessions.ts";
import { batchFrames } from "./live-frames.ts";
import type { StoredRow } from "./log-store.ts";
import { gapFrame } from "./resume-plan.ts";
import { type RowFilter, rowFilter, takesRow } from "./row-filter.ts";

/**
 * Sends a push's new rows to every socket of the hub that follows the topic live. Frames are built
 * once for every socket that takes the same ones (no types or filters, everything new to it). A live
 * socket out of allowance goes back to replaying at its cursor: the window and the topic's log are
 * its buffer. Replaying sockets are only checked: closed if stalled too long, restarted if drained.
 */
export function broadcast(
  deps: { sessions: HubSessions; sender: HubSender; replay: HubReplay },
  feed: Feed,
  applied: Applied,
): void {
  const { sessions, sender, replay } = deps;
  const { rows } = applied;
  const topicJson = JSON.stringify(feed.topic);
  const first = rows[0].seq;
  let single: string[] | null = null;
  let batched: string[] | null = null;
  const now = Date.now();
  for (const session of sessions.following(feed.topic)) {
    const sub = session.subs.get(feed.topic);
    if (!sub || session.ws.readyState !== WebSocket.OPEN) continue;
    if (sub.mode !== "live") {
      sender.closeIfStalled(session, now);
      replay.resumeIfDrained(session);
      continue;
    }
    if (!sender.open(session)) {
      // Every earlier row reached this socket: it resumes from the window or the log at this push.
      sub.mode = "replaying";
      sub.cursor = Math.max(sub.cursor, first - 1);
      sessions.save(session, sub);
      sender.stop(session, now);
      continue;
    }
    try {
      if (applied.oldest !== undefined && sub.cursor < applied.oldest - 1) {
        // The rows between were trimmed before the hub got them: say so instead of skipping silently.
        const position = { epoch: feed.epoch, head: feed.head, oldest: applied.oldest };
        sender.send(session, JSON.stringify(gapFrame(feed.topic, sub.cursor, position, "retention")));
      }
      let frames: string[];
      if (sub.types || sub.filter || sub.cursor >= first) {
        const wanted = wantedRows(rows, sub.cursor, sub.types, rowFilter(sub.filter));
        frames = session.batch
          ? batchFrames(topicJson, wanted)
          : wanted.map((row) => eventFrameText(topicJson, row.body));
      } else if (session.batch) {
        batched ??= batchFrames(topicJson, rows);
        frames = batched;
      } else {
        single ??= rows.map((row) => eventFrameText(topicJson, row.body));
        frames = single;
      }
      for (const frame of frames) sender.send(session, frame);
    } catch {
      // A socket that is closing cannot be written; its client resumes from its own cursor.
    }
    sub.cursor = Math.max(sub.cursor, feed.head);
  }
}

function wantedRows(
  rows: readonly StoredRow[],
  after: number,
  types: string[] | null,
  filter: RowFilter | null,
): StoredRow[] {
  return rows.filter((row) => row.seq > after && takesRow(row, types, filter));
}
