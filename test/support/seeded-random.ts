/**
 * A small seeded generator (mulberry32) for fault schedules, so a failing run can be replayed
 * with the seed it printed.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from RELIABILITY_SEED, or a fresh one; printed so the run can be repeated. */
export function runSeed(label: string): number {
  const seed = Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000);
  console.log(`${label} seed ${seed} (RELIABILITY_SEED=${seed} replays it)`);
  return seed;
}
