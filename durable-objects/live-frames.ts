import { EVENTS_FRAME_CHARS, eventFrameText, eventsFrameText } from "../protocol/frames.ts";
import type { StoredRow } from "./log-store.ts";

/**
 * Frames of stored events for sockets, shared by every object that holds sockets: one frame per
 * event, or `events` frames filled up to `EVENTS_FRAME_CHARS` for sockets that batch.
 */

/** Where an events frame that starts at `start` ends: at least one row, then rows while under `maxChars`. */
export function frameEnd(rows: readonly StoredRow[], start: number, maxChars: number): number {
  let end = start + 1;
  let chars = rows[start].body.length;
  while (end < rows.length && chars + rows[end].body.length <= maxChars) {
    chars += rows[end].body.length;
    end += 1;
  }
  return end;
}

/** One event alone goes in an event frame, as a client that takes both expects. */
export function eventsText(topicJson: string, rows: readonly StoredRow[], start: number, end: number): string {
  if (end - start === 1) return eventFrameText(topicJson, rows[start].body);
  return eventsFrameText(
    topicJson,
    rows.slice(start, end).map((row) => row.body),
  );
}

/** The rows as events frames of at most `EVENTS_FRAME_CHARS` each. */
export function batchFrames(topicJson: string, rows: readonly StoredRow[]): string[] {
  const frames: string[] = [];
  for (let start = 0; start < rows.length; ) {
    const end = frameEnd(rows, start, EVENTS_FRAME_CHARS);
    frames.push(eventsText(topicJson, rows, start, end));
    start = end;
  }
  return frames;
}
