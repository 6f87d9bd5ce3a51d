import { describe, expect, it } from "vitest";
import { backoffCeiling, backoffDelay } from "../../protocol/backoff.ts";

const policy = { firstDelayMs: 100, maxDelayMs: 5_000 };

describe("backoff", () => {
  it("doubles the ceiling per attempt by default", () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffCeiling(a, policy))).toEqual([100, 200, 400, 800, 1600, 3200]);
  });

  it("grows by the given factor", () => {
    expect([1, 2, 3].map((a) => backoffCeiling(a, { ...policy, factor: 3 }))).toEqual([100, 300, 900]);
  });

  it("never exceeds the maximum, however many attempts", () => {
    expect(backoffCeiling(7, policy)).toBe(5_000);
    expect(backoffCeiling(1_000, policy)).toBe(5_000);
  });

  it("treats attempt 0 or less like the first", () => {
    expect(backoffCeiling(0, policy)).toBe(100);
  });

  it("full jitter: the delay is a uniform draw between 0 and the ceiling", () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(399);
  });

  it("stays inside [0, ceiling) with the real random source and actually spreads", () => {
    const delays = Array.from({ length: 2_000 }, () => backoffDelay(4, policy));
    for (const d of delays) {
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(800);
    }
    // Jitter, not a fixed wait: the draws cover both halves of the range.
    expect(delays.some((d) => d < 400)).toBe(true);
    expect(delays.some((d) => d >= 400)).toBe(true);
  });
});
