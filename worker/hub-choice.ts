/**
 * Which hub a socket goes to. Every routing key (a topic, or whatever the client passes as `key`)
 * ranks the pool's hubs the same way everywhere (rendezvous hashing), so sockets of one audience
 * meet on few hubs: the first attempt is the key's rank-0 hub, and each further attempt picks at
 * random among a window of ranks twice as wide as the last (1, 2–3, 4–7, …). A topic's audience
 * thus fills its first hub, then spreads over more as hubs refuse for being full.
 */

export const hubName = (index: number): string => `hub-${index}`;

/** FNV-1a over the key and the hub's index, then a murmur3 finalizer so close inputs spread. */
function score(key: string, index: number): number {
  let hash = 0x811c9dc5;
  const text = `${key}\u0000${index}`;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Rankings of recent keys: a pool of 1,024 costs as many hashes and a sort per connect otherwise. */
const rankings = new Map<string, number[]>();
const RANKINGS_KEPT = 1_024;

/** The pool's hub indices, best first for `key`. */
export function rankHubs(key: string, poolSize: number): number[] {
  const cacheKey = `${poolSize}\u0000${key}`;
  const known = rankings.get(cacheKey);
  if (known) return known;
  const ranked = computeRanks(key, poolSize);
  if (rankings.size >= RANKINGS_KEPT) rankings.delete(rankings.keys().next().value as string);
  rankings.set(cacheKey, ranked);
  return ranked;
}

function computeRanks(key: string, poolSize: number): number[] {
  const scored = Array.from({ length: poolSize }, (_, index) => ({ index, score: score(key, index) }));
  scored.sort((a, b) => b.score - a.score || a.index - b.index);
  return scored.map((entry) => entry.index);
}

/** The ranks attempt `attempt` picks among: [0, 1), [1, 2), [2, 4), [4, 8), … */
export function probeWindow(attempt: number): [number, number] {
  if (attempt === 0) return [0, 1];
  return [2 ** (attempt - 1), 2 ** attempt];
}

/**
 * The hubs to try for a socket with routing key `key`, in order, one per attempt and never the
 * same twice. Past the pool's ranks an attempt picks among the hubs not tried yet.
 */
export function hubCandidates(
  key: string,
  poolSize: number,
  attempts: number,
  random: () => number = Math.random,
): string[] {
  const ranked = rankHubs(key, poolSize);
  const tried = new Set<number>();
  const names: string[] = [];
  for (let attempt = 0; attempt < attempts && tried.size < poolSize; attempt += 1) {
    const [lo, hi] = probeWindow(attempt);
    const window = (lo < poolSize ? ranked.slice(lo, Math.min(hi, poolSize)) : ranked).filter((i) => !tried.has(i));
    const pick = window[Math.floor(random() * window.length)];
    tried.add(pick);
    names.push(hubName(pick));
  }
  return names;
}

/** A routing key for a socket that gives none: its sockets spread over the pool's rank-0 hubs. */
export function randomKey(): string {
  return crypto.randomUUID();
}
