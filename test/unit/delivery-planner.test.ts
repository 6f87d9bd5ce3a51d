import { describe, expect, it } from "vitest";
import {
  afterFailure,
  CHECKPOINT_MS,
  checkpointDue,
  cursorFor,
  dueCutoff,
  earliest,
  nextStep,
  RunBudget,
} from "../../durable-objects/delivery-planner.ts";

const rows = (...seqs: number[]) => seqs.map((seq) => ({ seq }));
const policy = { maxAttempts: 4, firstDelayMs: 1000, maxDelayMs: 3000 };

describe("cursorFor", () => {
  const log = { head: 10, oldest: 4 };

  it("maps earliest, latest and a seq to the cursor before the next event", () => {
    expect(cursorFor("earliest", log)).toEqual({ ok: true, cursor: 3 });
    expect(cursorFor("latest", log)).toEqual({ ok: true, cursor: 10 });
    expect(cursorFor(4, log)).toEqual({ ok: true, cursor: 3 });
    expect(cursorFor(11, log)).toEqual({ ok: true, cursor: 10 });
  });

  it("refuses a seq beyond head + 1 or older than the oldest retained event", () => {
    expect(cursorFor(12, log)).toMatchObject({ ok: false, code: "cursor_ahead", head: 10 });
    expect(cursorFor(3, log)).toMatchObject({ ok: false, code: "cursor_expired", oldest: 4 });
  });

  it("starts an empty topic at 0", () => {
    expect(cursorFor("earliest", { head: 0, oldest: 1 })).toEqual({ ok: true, cursor: 0 });
    expect(cursorFor(1, { head: 0, oldest: 1 })).toEqual({ ok: true, cursor: 0 });
  });
});

describe("nextStep", () => {
  it("sends the rows read after the cursor, ending at the last one", () => {
    expect(nextStep(2, 9, null, rows(3, 4, 5))).toEqual({ kind: "send", rows: rows(3, 4, 5), end: 5 });
  });

  it("is idle at the head and skips to the head when the filter matched nothing", () => {
    expect(nextStep(9, 9, null, [])).toEqual({ kind: "idle" });
    expect(nextStep(4, 9, null, [])).toEqual({ kind: "skip", cursor: 9 });
  });

  it("retries the same batch even when more events arrived", () => {
    expect(nextStep(2, 20, 4, rows(3, 4, 5, 6))).toEqual({ kind: "send", rows: rows(3, 4), end: 4 });
  });

  it("skips a retried batch whose events are gone (trimmed by retention)", () => {
    expect(nextStep(2, 20, 4, rows(7, 8))).toEqual({ kind: "skip", cursor: 4 });
  });

  it("sends the rows the filters take and passes the others, skipping a read that has none", () => {
    const even = (row: { seq: number }) => row.seq % 2 === 0;
    expect(nextStep(2, 20, null, rows(3, 4, 5, 6, 7), even)).toEqual({ kind: "send", rows: rows(4, 6), end: 6 });
    // The read ends at 5 though the head is 20: only what was read is passed.
    expect(nextStep(2, 20, null, rows(3, 5), even)).toEqual({ kind: "skip", cursor: 5 });
    expect(nextStep(2, 20, 6, rows(3, 4, 5, 6, 7, 8), even)).toEqual({ kind: "send", rows: rows(4, 6), end: 6 });
    expect(nextStep(2, 20, 3, rows(3, 4), even)).toEqual({ kind: "skip", cursor: 3 });
  });
});

describe("afterFailure", () => {
  it("retries with a full-jitter delay below a doubling ceiling capped at the max", () => {
    const top = () => 0.999999;
    const ceilings = [1, 2, 3].map((attempts) =>
      afterFailure({ attempts: attempts - 1, firstFailureAt: 50 }, policy, "dead-letter", 100, top),
    );
    expect(ceilings.map((o) => (o.kind === "retry" ? o.delayMs : -1))).toEqual([999, 1999, 2999]);
    const low = afterFailure({ attempts: 0, firstFailureAt: null }, policy, "dead-letter", 100, () => 0.25);
    expect(low).toEqual({ kind: "retry", attempts: 1, firstFailureAt: 100, delayMs: 250, nextAttemptAt: 350 });
  });

  it("gives up after maxAttempts failed attempts, the way the policy says", () => {
    const last = { attempts: 3, firstFailureAt: 10 };
    expect(afterFailure(last, policy, "dead-letter", 99)).toEqual({
      kind: "dead-letter",
      attempts: 4,
      firstFailureAt: 10,
    });
    expect(afterFailure(last, policy, "pause", 99)).toEqual({ kind: "pause", attempts: 4, firstFailureAt: 10 });
  });

  it("gives up at once when one attempt is all the policy allows", () => {
    const once = { ...policy, maxAttempts: 1 };
    expect(afterFailure({ attempts: 0, firstFailureAt: null }, once, "dead-letter", 5)).toMatchObject({
      kind: "dead-letter",
      attempts: 1,
    });
  });
});

describe("due times", () => {
  it("takes the earliest set time", () => {
    expect(earliest(null, 30, 20, null)).toBe(20);
    expect(earliest(null, null)).toBeNull();
  });

  it("treats an alarm run early as the time it was armed for", () => {
    expect(dueCutoff(100, 500)).toBe(500);
    expect(dueCutoff(900, 500)).toBe(900);
    expect(dueCutoff(900, null)).toBe(900);
  });
});

describe("RunBudget", () => {
  it("gives out its sends until they or its time run out", () => {
    const budget = new RunBudget(1000, 2, 500);
    expect(budget.take(1000)).toBe(true);
    expect(budget.take(1499)).toBe(true);
    expect(budget.take(1499)).toBe(false);
    const timed = new RunBudget(1000, 10, 500);
    expect(timed.expired(1499)).toBe(false);
    expect(timed.take(1500)).toBe(false);
    expect(timed.expired(1500)).toBe(true);
  });
});

describe("checkpointDue", () => {
  it("writes before the first send, then at most every CHECKPOINT_MS", () => {
    expect(checkpointDue(null, 5)).toBe(true);
    expect(checkpointDue(1000, 1000 + CHECKPOINT_MS - 1)).toBe(false);
    expect(checkpointDue(1000, 1000 + CHECKPOINT_MS)).toBe(true);
  });
});
