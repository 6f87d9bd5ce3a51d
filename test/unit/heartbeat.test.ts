import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Heartbeat } from "../../client/heartbeat.ts";

describe("heartbeat", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("pings on the interval and times out when nothing answers", () => {
    const ping = vi.fn();
    const timeout = vi.fn();
    const heartbeat = new Heartbeat({ intervalMs: 1_000, timeoutMs: 500 }, ping, timeout);
    heartbeat.start();
    vi.advanceTimersByTime(999);
    expect(ping).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ping).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(499);
    expect(timeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(timeout).toHaveBeenCalledTimes(1);
    // After a timeout it is stopped until started again.
    vi.advanceTimersByTime(10_000);
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it("stays quiet while frames keep arriving", () => {
    const ping = vi.fn();
    const timeout = vi.fn();
    const heartbeat = new Heartbeat({ intervalMs: 1_000, timeoutMs: 500 }, ping, timeout);
    heartbeat.start();
    vi.advanceTimersByTime(1_000);
    for (let i = 0; i < 10; i++) {
      // A frame 400 ms after each ping, inside the 500 ms timeout.
      vi.advanceTimersByTime(400);
      heartbeat.seen();
      vi.advanceTimersByTime(600);
    }
    expect(ping).toHaveBeenCalledTimes(11);
    expect(timeout).not.toHaveBeenCalled();
    heartbeat.stop();
    vi.advanceTimersByTime(10_000);
    expect(ping).toHaveBeenCalledTimes(11);
    expect(timeout).not.toHaveBeenCalled();
  });
});
