import { describe, expect, it } from "vitest";
import type { LogPosition } from "../../durable-objects/log-store.ts";
import { type RewindLog, rewindCursor, untilSeq } from "../../durable-objects/rewind-plan.ts";
import { parseClientFrame } from "../../protocol/frames.ts";
import { rewindOf, startConflict } from "../../protocol/rewind.ts";

/** A log of events `oldest`..`head` stored at `seq * 1000` ms, the events before `oldest` trimmed. */
function log(oldest: number, head: number, trimmedAt: number | null = oldest > 1 ? (oldest - 1) * 1000 : null) {
  const position: LogPosition = { epoch: "e1", head, oldest };
  const seqs = Array.from({ length: Math.max(0, head - oldest + 1) }, (_, i) => oldest + i);
  const rewindLog: RewindLog = {
    position: () => position,
    firstAtOrAfter: (at) => seqs.find((seq) => seq * 1000 >= at) ?? null,
    lastAtOrBefore: (at) => seqs.findLast((seq) => seq * 1000 <= at) ?? null,
    trimmedAt: () => trimmedAt,
  };
  return rewindLog;
}

describe("rewindCursor", () => {
  it("last N starts after head - N, never below 0; last 0 at the head", () => {
    expect(rewindCursor(log(1, 30), { last: 5 })).toBe(25);
    expect(rewindCursor(log(1, 30), { last: 0 })).toBe(30);
    expect(rewindCursor(log(1, 30), { last: 1000 })).toBe(0);
    expect(rewindCursor(log(1, 0), { last: 10 })).toBe(0);
    // Below the oldest retained event: the resume planning then reports the trimmed ones.
    expect(rewindCursor(log(21, 30), { last: 15 })).toBe(15);
    // Ending at `until`'s seq instead of the head.
    expect(rewindCursor(log(1, 30), { last: 5 }, 12)).toBe(7);
  });

  it("since starts just before the first event stored at or after it, or at the head", () => {
    expect(rewindCursor(log(1, 30), { since: 20_500 })).toBe(20);
    expect(rewindCursor(log(1, 30), { since: 20_000 })).toBe(19);
    expect(rewindCursor(log(1, 30), { since: 0 })).toBe(0);
    expect(rewindCursor(log(1, 30), { since: 99_000 })).toBe(30);
  });

  it("since at or before the newest trimmed event starts at 0, so the reader is told of the gap", () => {
    expect(rewindCursor(log(11, 30), { since: 10_000 })).toBe(0);
    expect(rewindCursor(log(11, 30), { since: 3_000 })).toBe(0);
    expect(rewindCursor(log(11, 30), { since: 10_001 })).toBe(10);
    // Everything trimmed, and nothing since: from the head.
    expect(rewindCursor(log(31, 30, 30_000), { since: 31_000 })).toBe(30);
    expect(rewindCursor(log(31, 30, 30_000), { since: 30_000 })).toBe(0);
  });
});

describe("untilSeq", () => {
  it("ends at the last event stored at or before the time, or before the oldest retained one", () => {
    expect(untilSeq(log(1, 30), 12_999)).toBe(12);
    expect(untilSeq(log(1, 30), 12_000)).toBe(12);
    expect(untilSeq(log(11, 30), 5_000)).toBe(10);
    expect(untilSeq(log(1, 30), 99_000)).toBe(30);
  });
});

describe("start fields", () => {
  it("a cursor or one rewind, never both", () => {
    expect(startConflict({ after: 3, epoch: "e" })).toBeNull();
    expect(startConflict({ last: 3 })).toBeNull();
    expect(startConflict({ since: "2026-05-01T10:00:00Z" })).toBeNull();
    expect(startConflict({ last: 3, after: 0 })?.field).toBe("last");
    expect(startConflict({ since: "2026-05-01T10:00:00Z", epoch: "e" })?.field).toBe("epoch");
    expect(startConflict({ last: 3, since: "2026-05-01T10:00:00Z" })?.field).toBe("since");
  });

  it("rewindOf reads since as epoch milliseconds, with its offset", () => {
    expect(rewindOf({ since: "2026-05-01T12:00:00+02:00" })).toEqual({ since: Date.UTC(2026, 4, 1, 10) });
    expect(rewindOf({ last: 0 })).toEqual({ last: 0 });
    expect(rewindOf({ after: 4 })).toBeNull();
  });

  it("a subscribe frame with both is refused by the frame parser, naming the field", () => {
    expect(parseClientFrame(JSON.stringify({ type: "subscribe", topic: "t", last: 2 }))).toMatchObject({ ok: true });
    expect(parseClientFrame(JSON.stringify({ type: "subscribe", topic: "t", last: 2, after: 1 }))).toEqual({
      ok: false,
      message:
        "last: last starts a new subscription and after resumes one: give after (with its epoch) or last, not both",
    });
    expect(parseClientFrame(JSON.stringify({ type: "unsubscribe", topic: "t" }))).toMatchObject({ ok: true });
  });
});
