import { performance } from "node:perf_hooks";

/** Milliseconds on one clock shared by senders and receivers (they run in the same process). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A scheduled time as events carry it (microsecond precision), usable as a map key. */
export function scheduledKey(scheduledMs: number): number {
  return Math.round(scheduledMs * 1000) / 1000;
}

let counter = 0;
const runId = Math.random().toString(36).slice(2, 10);

/**
 * A CloudEvent whose `data` serializes to exactly `payloadBytes` bytes. `data.t` carries the
 * time the event was scheduled to be sent, so a receiver can measure latency from the schedule.
 */
export function makeEvent(payloadBytes: number, scheduledMs = 0): Record<string, unknown> {
  counter += 1;
  const t = scheduledKey(scheduledMs);
  const base = JSON.stringify({ t, p: "" }).length;
  const data = { t, p: "x".repeat(Math.max(0, payloadBytes - base)) };
  return { specversion: "1.0", id: `${runId}-${counter}`, source: "/bench", type: "bench.tick", data };
}

export function eventText(payloadBytes: number, scheduledMs = 0): string {
  return JSON.stringify(makeEvent(payloadBytes, scheduledMs));
}

export function batchText(size: number, payloadBytes: number): string {
  return JSON.stringify(Array.from({ length: size }, () => makeEvent(payloadBytes)));
}

const SCHEDULED = /"t":([0-9.]+)/;

/** The scheduled send time carried by a frame or message, without parsing the whole JSON. */
export function scheduledTimeOf(text: string): number | null {
  const match = SCHEDULED.exec(text);
  return match ? Number(match[1]) : null;
}

const SCHEDULED_ALL = /"t":([0-9.]+)/g;

/** Every scheduled send time a frame carries: one per event, whether it holds one event or several. */
export function scheduledTimesOf(text: string): number[] {
  return Array.from(text.matchAll(SCHEDULED_ALL), (match) => Number(match[1]));
}
