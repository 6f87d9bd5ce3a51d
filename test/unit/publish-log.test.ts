import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PublishLog } from "../../durable-objects/publish-log.ts";

describe("the publish log line", () => {
  let lines: Record<string, unknown>[];
  beforeEach(() => {
    vi.useFakeTimers();
    lines = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(JSON.parse(String(line)));
    });
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  const step = (calls: number, appended: number, duplicates = 0) => ({ calls, appended, duplicates });

  it("logs the first step at once and sums the steps of the next second into one line", () => {
    const log = new PublishLog();
    log.record("t", step(1, 1), 1);
    expect(lines).toMatchObject([
      { msg: "publish", topic: "t", steps: 1, calls: 1, appended: 1, duplicates: 0, head: 1 },
    ]);
    for (let i = 2; i <= 100; i++) {
      vi.advanceTimersByTime(5);
      log.record("t", step(2, 1, 1), i);
    }
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ steps: 99, calls: 198, appended: 99, duplicates: 99, head: 100 });
  });

  it("writes nothing when nothing was recorded, and logs at once again after a quiet second", () => {
    const log = new PublishLog();
    log.record("t", step(1, 1), 1);
    vi.advanceTimersByTime(5_000);
    expect(lines).toHaveLength(1);
    log.record("t", step(3, 3), 4);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ steps: 1, calls: 3, appended: 3, head: 4 });
  });

  it("never writes more than one line a second under steady load", () => {
    const log = new PublishLog();
    for (let i = 1; i <= 1_000; i++) {
      log.record("t", step(1, 1), i);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(1_000);
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(lines.reduce((n, line) => n + Number(line.calls), 0)).toBe(1_000);
    expect(lines.at(-1)).toMatchObject({ head: 1_000 });
  });
});
