import { describe, expect, it } from "vitest";
import { hubCandidates, hubName, probeWindow, rankHubs } from "../../worker/hub-choice.ts";

const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

describe("hub choice", () => {
  it("ranks every hub of the pool once, the same way for the same key", () => {
    const ranked = rankHubs("scores.final", 16);
    expect([...ranked].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(rankHubs("scores.final", 16)).toEqual(ranked);
  });

  it("spreads keys' first hubs over the pool", () => {
    const firsts = new Set(Array.from({ length: 200 }, (_, i) => rankHubs(`topic-${i}`, 16)[0]));
    expect(firsts.size).toBeGreaterThanOrEqual(14);
  });

  it("keeps a key's first hub when the pool grows, unless the new hub ranks first", () => {
    let moved = 0;
    for (let i = 0; i < 200; i += 1) {
      const before = rankHubs(`k${i}`, 16)[0];
      const after = rankHubs(`k${i}`, 17)[0];
      if (before !== after) {
        expect(after).toBe(16);
        moved += 1;
      }
    }
    expect(moved).toBeLessThan(40);
  });

  it("widens the window of ranks with each attempt", () => {
    expect([0, 1, 2, 3, 4].map(probeWindow)).toEqual([
      [0, 1],
      [1, 2],
      [2, 4],
      [4, 8],
      [8, 16],
    ]);
  });

  it("tries the key's rank-0 hub first, then one per widening window, never twice", () => {
    const ranked = rankHubs("orders", 16);
    const names = hubCandidates("orders", 16, 5, sequence(0.99));
    expect(names).toEqual([ranked[0], ranked[1], ranked[3], ranked[7], ranked[15]].map(hubName));
    const low = hubCandidates("orders", 16, 5, sequence(0));
    expect(low).toEqual([ranked[0], ranked[1], ranked[2], ranked[4], ranked[8]].map(hubName));
  });

  it("goes on among untried hubs past the pool's ranks, and stops when every hub was tried", () => {
    const names = hubCandidates("orders", 4, 10, sequence(0.5));
    expect(names).toHaveLength(4);
    expect(new Set(names).size).toBe(4);
    expect(hubCandidates("orders", 1, 6)).toEqual(["hub-0"]);
  });
});
