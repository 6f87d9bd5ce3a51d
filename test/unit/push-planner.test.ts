import { describe, expect, it } from "vitest";
import type { StoredRow } from "../../durable-objects/log-store.ts";
import {
  newLink,
  Outbox,
  PUSH_TIMED_RETRIES,
  planPush,
  settle,
  takeRows,
  trimmedOldest,
} from "../../durable-objects/push-planner.ts";

const row = (seq: number, body = `{"seq":${seq}}`): StoredRow => ({ seq, type: "Thing", body });
const rows = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => row(from + i));
const seqs = (list: StoredRow[]) => list.map((r) => r.seq);

describe("planPush", () => {
  it("is idle while the hub holds the head", () => {
    expect(planPush(10, 10, 5)).toEqual({ kind: "idle" });
    expect(planPush(10, 10, null, true)).toEqual({ kind: "idle" });
  });

  it("sends from memory when the recent rows reach back to the hub's position, else from the log", () => {
    expect(planPush(7, 10, 5)).toEqual({ kind: "send", prev: 7, source: "outbox" });
    expect(planPush(4, 10, 5)).toEqual({ kind: "send", prev: 4, source: "outbox" });
    expect(planPush(3, 10, 5)).toEqual({ kind: "send", prev: 3, source: "log" });
    expect(planPush(3, 10, null)).toEqual({ kind: "send", prev: 3, source: "log" });
  });

  it("sends a hub of unknown position the recent rows from just before the first", () => {
    expect(planPush(null, 10, 8)).toEqual({ kind: "send", prev: 7, source: "outbox" });
  });

  it("probes a hub of unknown position only when asked, when no row is recent", () => {
    expect(planPush(null, 10, null)).toEqual({ kind: "idle" });
    expect(planPush(null, 10, null, true)).toEqual({ kind: "send", prev: 10, source: "probe" });
  });
});

describe("takeRows", () => {
  it("stops at the row count or the character budget, but always takes one row", () => {
    expect(seqs(takeRows(rows(1, 10), { maxRows: 3, maxChars: 1000 }))).toEqual([1, 2, 3]);
    expect(seqs(takeRows([row(1, "x".repeat(6)), row(2, "x".repeat(6))], { maxRows: 9, maxChars: 10 }))).toEqual([1]);
    expect(seqs(takeRows([row(1, "x".repeat(60))], { maxRows: 9, maxChars: 10 }))).toEqual([1]);
    expect(takeRows([], { maxRows: 9, maxChars: 10 })).toEqual([]);
  });
});

describe("trimmedOldest", () => {
  it("is set only when the rows read do not start right after prev", () => {
    expect(trimmedOldest(4, rows(5, 6), 6)).toBeUndefined();
    expect(trimmedOldest(4, rows(8, 9), 9)).toBe(8);
    expect(trimmedOldest(4, [], 9)).toBe(10);
    expect(trimmedOldest(9, [], 9)).toBeUndefined();
  });
});

describe("settle", () => {
  const link = { ...newLink("hub-0", 5, 3), failures: 2 };
  const sent = { generation: 3, prev: 5 };

  it("takes the hub's head from an applied push or a behind answer", () => {
    expect(settle(link, sent, { ok: true, head: 9, subscribers: 4 })).toEqual({ kind: "next", acked: 9 });
    expect(settle(link, sent, { ok: false, code: "behind", head: 2 })).toEqual({ kind: "next", acked: 2 });
  });

  it("drops the hub on not_subscribed only under the generation the push was sent with", () => {
    expect(settle(link, sent, { ok: false, code: "not_subscribed" })).toEqual({ kind: "drop" });
    expect(settle(link, { ...sent, generation: 2 }, { ok: false, code: "not_subscribed" })).toEqual({
      kind: "next",
      acked: 5,
    });
  });

  it("retries a failed push with full-jitter backoff, then leaves it to the alarm", () => {
    expect(settle(link, sent, new Error("overloaded"), () => 0.5)).toEqual({
      kind: "retry",
      failures: 3,
      delayMs: 200,
    });
    const tired = { ...link, failures: PUSH_TIMED_RETRIES };
    expect(settle(tired, sent, new Error("reset"))).toEqual({
      kind: "retry",
      failures: PUSH_TIMED_RETRIES + 1,
      delayMs: null,
    });
  });

  it("treats a behind answer from a hub that holds prev as a failure, not a loop", () => {
    expect(settle(link, sent, { ok: false, code: "behind", head: 5 }, () => 0)).toEqual({
      kind: "retry",
      failures: 3,
      delayMs: 0,
    });
  });
});

describe("Outbox", () => {
  it("hands out the rows after a position, within the limits", () => {
    const outbox = new Outbox({ maxRows: 100, maxChars: 10_000 });
    expect(outbox.first).toBeNull();
    outbox.append(rows(3, 6));
    outbox.append(rows(7, 9));
    expect(outbox.first).toBe(3);
    expect(seqs(outbox.after(2, { maxRows: 10, maxChars: 10_000 }))).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(seqs(outbox.after(6, { maxRows: 2, maxChars: 10_000 }))).toEqual([7, 8]);
    expect(outbox.after(9, { maxRows: 2, maxChars: 10_000 })).toEqual([]);
  });

  it("drops the oldest rows past its row or character limit", () => {
    const outbox = new Outbox({ maxRows: 3, maxChars: 10_000 });
    outbox.append(rows(1, 5));
    expect(outbox.first).toBe(3);
    const small = new Outbox({ maxRows: 100, maxChars: 20 });
    small.append([row(1, "x".repeat(10)), row(2, "x".repeat(10)), row(3, "x".repeat(10))]);
    expect(small.first).toBe(2);
    small.append([row(4, "x".repeat(50))]);
    expect(small.first).toBe(4);
  });

  it("starts over when rows do not follow the last one held", () => {
    const outbox = new Outbox({ maxRows: 100, maxChars: 10_000 });
    outbox.append(rows(1, 3));
    outbox.append(rows(7, 8));
    expect(outbox.first).toBe(7);
    outbox.clear();
    expect(outbox.first).toBeNull();
  });

  it("releases the rows every hub holds, and takes the next rows after them", () => {
    const outbox = new Outbox({ maxRows: 100, maxChars: 10_000 });
    outbox.append(rows(1, 5));
    outbox.release(0);
    expect(outbox.size).toBe(5);
    outbox.release(3);
    expect(outbox.first).toBe(4);
    expect(outbox.size).toBe(2);
    outbox.release(9);
    expect(outbox.first).toBeNull();
    outbox.append(rows(6, 7));
    expect(outbox.first).toBe(6);
  });
});
