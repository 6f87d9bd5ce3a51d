import { describe, expect, it } from "vitest";
import {
  HELD_BACK_RECHECK_MS,
  type LogFigures,
  nextTrimAt,
  planTrim,
  type RetentionPolicy,
} from "../../durable-objects/retention-planner.ts";

const policy: RetentionPolicy = {
  maxAgeSeconds: 3600,
  maxEvents: 100,
  maxBytes: 10_000,
  dedupWindowSeconds: 600,
  protectSubscriptions: false,
};
const log = (figures: Partial<LogFigures>): LogFigures => ({
  head: 50,
  oldest: 1,
  agedUpTo: 0,
  oversizeUpTo: 0,
  subscriptionFloor: null,
  ...figures,
});
const NOW = 1_000_000_000;

describe("planTrim", () => {
  it("cuts nothing inside every limit", () => {
    expect(planTrim(log({}), policy)).toEqual({ cut: 0, heldBySubscription: false });
  });

  it("takes the furthest of the age, count and byte cuts", () => {
    expect(planTrim(log({ head: 130, agedUpTo: 10 }), policy).cut).toBe(30);
    expect(planTrim(log({ agedUpTo: 40 }), policy).cut).toBe(40);
    expect(planTrim(log({ agedUpTo: 40, oversizeUpTo: 45 }), policy).cut).toBe(45);
  });

  it("cuts nothing already gone", () => {
    expect(planTrim(log({ oldest: 41, agedUpTo: 40 }), policy).cut).toBe(0);
  });

  it("holds the age and count cuts at the slowest subscription when protecting, never the byte cut", () => {
    const protecting = { ...policy, protectSubscriptions: true };
    expect(planTrim(log({ agedUpTo: 40, subscriptionFloor: 12 }), protecting)).toEqual({
      cut: 12,
      heldBySubscription: true,
    });
    expect(planTrim(log({ agedUpTo: 40, subscriptionFloor: 0, oversizeUpTo: 30 }), protecting)).toEqual({
      cut: 30,
      heldBySubscription: true,
    });
    expect(planTrim(log({ agedUpTo: 40, subscriptionFloor: 50 }), protecting)).toEqual({
      cut: 40,
      heldBySubscription: false,
    });
    expect(planTrim(log({ agedUpTo: 40, subscriptionFloor: 12 }), policy).cut).toBe(40);
  });
});

describe("nextTrimAt", () => {
  const quiet = { oldestAt: null, oldestDedupAt: null };

  it("sleeps when nothing is retained", () => {
    expect(nextTrimAt(NOW, { ...log({ head: 5, oldest: 6 }), ...quiet }, policy)).toBeNull();
  });

  it("wakes at the first expiry of an event or a dedup key", () => {
    const figures = log({});
    expect(nextTrimAt(NOW, { ...figures, oldestAt: NOW - 1000, oldestDedupAt: null }, policy)).toBe(
      NOW - 1000 + 3_600_000 + 1,
    );
    expect(nextTrimAt(NOW, { ...figures, oldestAt: NOW - 1000, oldestDedupAt: NOW - 500 }, policy)).toBe(
      NOW - 500 + 600_000 + 1,
    );
  });

  it("wakes when the oldest key is past its window, not at its edge, where the cut takes nothing", () => {
    // Keys claimed before now - window go; one claimed exactly then stays until a millisecond later.
    const edge = NOW - policy.dedupWindowSeconds * 1000;
    const next = nextTrimAt(NOW, { ...log({}), oldestAt: null, oldestDedupAt: edge }, policy);
    expect(next).toBe(NOW + 1);
    expect(edge < (next as number) - policy.dedupWindowSeconds * 1000).toBe(true);
  });

  it("is due now while a limit is crossed, and looks again later while a subscription holds the cut", () => {
    expect(nextTrimAt(NOW, { ...log({ head: 200 }), ...quiet }, policy)).toBe(NOW);
    const held = { ...log({ agedUpTo: 40, subscriptionFloor: 10 }), oldestAt: NOW - 7_200_000, oldestDedupAt: null };
    // Cut up to the floor first, then wait for the subscription instead of spinning.
    expect(nextTrimAt(NOW, held, { ...policy, protectSubscriptions: true })).toBe(NOW);
    const heldAtOldest = { ...held, subscriptionFloor: 0, oldest: 1 };
    const plan = planTrim(heldAtOldest, { ...policy, protectSubscriptions: true });
    expect(plan).toEqual({ cut: 0, heldBySubscription: true });
    expect(nextTrimAt(NOW, heldAtOldest, { ...policy, protectSubscriptions: true })).toBe(NOW + HELD_BACK_RECHECK_MS);
  });
});
