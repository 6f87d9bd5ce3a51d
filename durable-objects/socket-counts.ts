/** The key of the count of every socket the object holds. */
const ALL = "";
/** A full object is counted again from the runtime at most this often, not on every refusal. */
const RECOUNT_MS = 1_000;

/**
 * Sockets an object holds, in all and per tag (client address, credential), counted as they open
 * and close. Asking the runtime (`getWebSockets(tag)`) builds an array of every matching socket, so
 * checking limits that way made each connect cost as much as the sockets already held, and filling
 * a hub grew with their square. The counts start from the runtime's list once per wake, and a limit
 * is only reported reached after counting again from the runtime (at most once a second), so a close
 * that was never reported cannot keep sockets out for long.
 */
export class SocketCounts {
  private counts: Map<string, number> | null = null;
  private counted = new WeakMap<WebSocket, readonly string[]>();
  private recountedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly ctx: DurableObjectState) {}

  /** Whether `tag` (all sockets when null) holds `limit` sockets or more. */
  atLimit(tag: string | null, limit: number): boolean {
    if ((this.load().get(tag ?? ALL) ?? 0) < limit) return false;
    const now = Date.now();
    if (now - this.recountedAt < RECOUNT_MS) return true;
    this.recountedAt = now;
    this.counts = null;
    return (this.load().get(tag ?? ALL) ?? 0) >= limit;
  }

  opened(ws: WebSocket, tags: readonly string[]): void {
    this.add(this.load(), ws, tags);
  }

  closed(ws: WebSocket): void {
    const tags = this.counted.get(ws);
    if (!tags || !this.counts) return;
    this.counted.delete(ws);
    for (const key of [ALL, ...tags]) this.counts.set(key, (this.counts.get(key) ?? 1) - 1);
  }

  private load(): Map<string, number> {
    if (this.counts) return this.counts;
    const counts = new Map<string, number>();
    this.counted = new WeakMap();
    for (const ws of this.ctx.getWebSockets()) this.add(counts, ws, this.ctx.getTags(ws));
    this.counts = counts;
    return counts;
  }

  private add(counts: Map<string, number>, ws: WebSocket, tags: readonly string[]): void {
    if (this.counted.has(ws)) return;
    this.counted.set(ws, tags);
    for (const key of [ALL, ...tags]) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
}
