import { describe, expect, it } from "vitest";
import { curveCsv, curveFigures, type MemorySample, proxySeries, sparkline } from "../soak/memory-curve.ts";

const MB = 1e6;
/** A sample every 10 s of a 300 s run, RSS from `rssAt(seconds)` in MB. */
const curve = (rssAt: (at: number) => number): MemorySample[] =>
  Array.from({ length: 31 }, (_, i) => ({
    at: i * 10,
    rss: (rssAt(i * 10) + 100) * MB,
    mesh: rssAt(i * 10) * MB,
    meshAnon: 0,
    meshFile: 0,
    heap: 3 * MB,
    storage: 0,
    events: i * 100,
  }));

describe("curveFigures", () => {
  it("sees a warm-up that levels off as flat afterwards", () => {
    const f = curveFigures(
      curve((at) => Math.min(500, 200 + at * 5)),
      300,
    );
    expect(f.start).toBe(200 * MB);
    expect(f.warmupPeak).toBe(500 * MB);
    expect(f.afterWarmup).toBe(500 * MB);
    expect(f.end).toBe(500 * MB);
    expect(f.growthAfterWarmup).toBe(0);
    expect(f.slopePerMinute).toBe(0);
  });

  it("sees steady growth after warm-up, with its slope", () => {
    const f = curveFigures(
      curve((at) => 200 + at),
      300,
    );
    // Windows of 30 s: medians at 115 s and 285 s.
    expect(f.afterWarmup).toBe(315 * MB);
    expect(f.end).toBe(485 * MB);
    expect(f.growthAfterWarmup).toBe(170 * MB);
    expect(f.slopePerMinute).toBeCloseTo(60 * MB);
  });

  it("reads wrangler's dev proxy apart from the mesh", () => {
    expect(
      curveFigures(
        curve(() => 400),
        300,
        proxySeries,
      ).end,
    ).toBe(100 * MB);
  });

  it("is not moved by one spike at the end", () => {
    const f = curveFigures(
      curve((at) => (at === 290 ? 900 : 400)),
      300,
    );
    expect(f.growthAfterWarmup).toBe(0);
    expect(f.max).toBe(900 * MB);
  });
});

describe("sparkline and CSV", () => {
  it("draws from zero, so a flat curve is one bar height", () => {
    expect(sparkline([5, 5, 5])).toBe("███");
    expect(sparkline([0, 7])).toBe("▁█");
    expect(
      sparkline(
        Array.from({ length: 120 }, (_, i) => i),
        60,
      ),
    ).toHaveLength(60);
  });

  it("writes one line per sample, sizes in MB", () => {
    const csv = curveCsv([
      {
        at: 10,
        rss: 700 * MB,
        mesh: 512 * MB,
        meshAnon: 400 * MB,
        meshFile: 112 * MB,
        heap: null,
        storage: 30 * MB,
        events: 2700,
      },
    ]);
    expect(csv).toBe(
      "seconds,workerd_rss_mb,mesh_rss_mb,proxy_rss_mb,mesh_anon_mb,mesh_file_mb,heap_mb,storage_mb,events\n10,700.0,512.0,188.0,400.0,112.0,,30.0,2700\n",
    );
  });
});
