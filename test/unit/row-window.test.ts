import { describe, expect, it } from "vitest";
import type { StoredRow } from "../../durable-objects/log-store.ts";
import { RowWindow } from "../../durable-objects/row-window.ts";

const row = (seq: number, type = "t", body = `{"seq":${seq}}`): StoredRow => ({ seq, type, body });
const rows = (from: number, to: number): StoredRow[] => Array.from({ length: to - from + 1 }, (_, i) => row(from + i));
const seqs = (list: StoredRow[]) => list.map((r) => r.seq);

describe("RowWindow", () => {
  it("starts empty after its head and covers only the head", () => {
    const window = new RowWindow(7, 10, 1_000_000);
    expect(window.first).toBe(8);
    expect(window.covers(7)).toBe(true);
    expect(window.covers(6)).toBe(false);
    expect(window.covers(8)).toBe(false);
    expect(window.after(7, 10)).toEqual([]);
  });

  it("appends contiguous rows, skips rows it holds, and covers every cursor from first - 1 to head", () => {
    const window = new RowWindow(0, 10, 1_000_000);
    window.append(rows(1, 5));
    window.append(rows(3, 7));
    expect(window.head).toBe(7);
    expect(window.first).toBe(1);
    expect(window.covers(0)).toBe(true);
    expect(window.covers(7)).toBe(true);
    expect(window.covers(8)).toBe(false);
    expect(seqs(window.after(4, 10))).toEqual([5, 6, 7]);
    expect(seqs(window.after(0, 2))).toEqual([1, 2]);
  });

  it("keeps the newest rows within its row and character bounds", () => {
    const byRows = new RowWindow(0, 3, 1_000_000);
    byRows.append(rows(1, 10));
    expect(byRows.first).toBe(8);
    expect(byRows.covers(6)).toBe(false);
    expect(byRows.covers(7)).toBe(true);
    expect(seqs(byRows.after(7, 10))).toEqual([8, 9, 10]);

    const byChars = new RowWindow(0, 100, 25);
    byChars.append([row(1, "t", "x".repeat(10)), row(2, "t", "x".repeat(10)), row(3, "t", "x".repeat(10))]);
    expect(byChars.first).toBe(2);
    expect(byChars.chars).toBe(20);
  });

  it("restarts at rows that skip past its head (the log was trimmed in between)", () => {
    const window = new RowWindow(0, 10, 1_000_000);
    window.append(rows(1, 3));
    window.append(rows(8, 9));
    expect(window.first).toBe(8);
    expect(window.covers(3)).toBe(false);
    expect(window.covers(7)).toBe(true);
  });

  it("filters by type", () => {
    const window = new RowWindow(0, 10, 1_000_000);
    window.append([row(1, "a"), row(2, "b"), row(3, "a")]);
    expect(seqs(window.after(0, 10, ["a"]))).toEqual([1, 3]);
    expect(seqs(window.after(1, 1, ["a"]))).toEqual([3]);
  });

  it("prepends a page that ends right before its first row, as far as its bounds allow", () => {
    const window = new RowWindow(10, 5, 1_000_000);
    window.append(rows(11, 13));
    window.prepend(rows(5, 10));
    expect(window.first).toBe(9);
    expect(seqs(window.after(8, 10))).toEqual([9, 10, 11, 12, 13]);
    window.prepend(rows(1, 3));
    expect(window.first).toBe(9);
  });

  it("prepends the older part of a page that overlaps it", () => {
    const window = new RowWindow(10, 100, 1_000_000);
    window.append(rows(11, 12));
    window.prepend(rows(6, 14));
    expect(window.first).toBe(6);
    expect(window.head).toBe(12);
    expect(seqs(window.after(5, 100))).toEqual([6, 7, 8, 9, 10, 11, 12]);
  });

  it("ignores a page that does not reach its first row", () => {
    const window = new RowWindow(10, 100, 1_000_000);
    window.append(rows(11, 12));
    window.prepend(rows(1, 5));
    expect(window.first).toBe(11);
  });

  it("stays correct across many trims", () => {
    const window = new RowWindow(0, 50, 1_000_000);
    for (let seq = 1; seq <= 5000; seq += 1) window.append([row(seq)]);
    expect(window.size).toBe(50);
    expect(window.first).toBe(4951);
    expect(seqs(window.after(4990, 100))).toEqual(rows(4991, 5000).map((r) => r.seq));
  });
});
