export interface HeartbeatOptions {
  /** How often to ping, in ms (default 25,000: under the idle timeouts of common proxies). */
  intervalMs?: number;
  /** How long to wait for any frame after a ping before the connection counts as dead (default 10,000). */
  timeoutMs?: number;
}

/**
 * Detects a dead connection that never closed (a laptop waking up, a NAT that forgot the flow):
 * it pings on an interval and calls `onTimeout` when nothing at all arrived within the timeout.
 * The server answers pings without waking a hibernated Durable Object.
 */
export class Heartbeat {
  private interval: ReturnType<typeof setInterval> | null = null;
  private deadline: ReturnType<typeof setTimeout> | null = null;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    options: HeartbeatOptions,
    private readonly ping: () => void,
    private readonly onTimeout: () => void,
  ) {
    this.intervalMs = options.intervalMs ?? 25_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  start(): void {
    this.stop();
    this.interval = setInterval(() => {
      if (this.deadline !== null) return;
      this.ping();
      this.deadline = setTimeout(() => {
        this.stop();
        this.onTimeout();
      }, this.timeoutMs);
    }, this.intervalMs);
  }

  /** Any frame proves the connection alive. */
  seen(): void {
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
  }

  stop(): void {
    if (this.interval !== null) clearInterval(this.interval);
    this.interval = null;
    this.seen();
  }
}
