import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** One point of the soak's memory curve. */
export interface MemorySample {
  /** Seconds since the load began. */
  at: number;
  /** Resident memory of all workerd processes of the server: wrangler's dev proxy and the mesh's. */
  rss: number;
  /** Resident memory of the workerd process that runs the Worker and its Durable Objects. */
  mesh: number;
  /** The same, split: anonymous (heaps, buffers) and file-backed (mapped files). */
  meshAnon: number;
  meshFile: number;
  /** The mesh isolate's JavaScript heap after a full collection (null when it could not be read). */
  heap: number | null;
  /** Bytes of the persisted state (the Durable Objects' SQLite files and the rest). */
  storage: number;
  /** Events acknowledged so far. */
  events: number;
}

/**
 * Resident memory of the given processes that are workerd, in bytes (VmRSS, RssAnon, RssFile from
 * /proc). `wrangler dev` runs two: its dev proxy, which every request and socket passes, and the
 * Worker's own, the one it attaches its inspector to (`--inspector-addr`).
 */
export function workerdMemory(pids: readonly number[]): Pick<MemorySample, "rss" | "mesh" | "meshAnon" | "meshFile"> {
  const total = { rss: 0, mesh: 0, meshAnon: 0, meshFile: 0 };
  for (const pid of pids) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("workerd")) continue;
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
      total.rss += kb("VmRSS");
      if (!cmdline.includes("--inspector-addr")) continue;
      total.mesh += kb("VmRSS");
      total.meshAnon += kb("RssAnon");
      total.meshFile += kb("RssFile");
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** Bytes of every file under `dir` (0 when it is gone). */
export function directoryBytes(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      total += stat.isDirectory() ? directoryBytes(path) : stat.size;
    } catch {
      // Removed while walking (SQLite's journal files come and go).
    }
  }
  return total;
}

/** What the summary says about a curve: the warm-up, and what came after it. */
export interface CurveFigures {
  start: number;
  /** Highest value before the warm-up point. */
  warmupPeak: number;
  /** Median of the window just after the warm-up point, and of the last window. */
  afterWarmup: number;
  end: number;
  /** `end - afterWarmup`: what the run still grew once warm. */
  growthAfterWarmup: number;
  max: number;
  /** Least-squares slope after the warm-up point, bytes per minute. */
  slopePerMinute: number;
}

/** One memory figure of a sample: the mesh's workerd, wrangler's dev proxy, or both. */
export type Series = (sample: MemorySample) => number;
export const meshSeries: Series = (s) => s.mesh;
export const proxySeries: Series = (s) => s.rss - s.mesh;

/**
 * Reads a curve of a run of `seconds`: warm-up ends at `warmupFraction` of the run; the value there
 * and at the end are medians over windows of `windowFraction` of the run, so one sample taken
 * during a garbage collection or a burst does not decide the verdict.
 */
export function curveFigures(
  samples: readonly MemorySample[],
  seconds: number,
  series: Series = meshSeries,
  warmupFraction = 1 / 3,
  windowFraction = 0.1,
): CurveFigures {
  if (samples.length === 0) throw new Error("no memory samples");
  const warmupAt = seconds * warmupFraction;
  const window = seconds * windowFraction;
  const valuesIn = (from: number, to: number) => samples.filter((s) => s.at >= from && s.at <= to).map(series);
  const last = series(samples[samples.length - 1]);
  const afterWarmup = median(valuesIn(warmupAt, warmupAt + window)) ?? last;
  const end = median(valuesIn(seconds - window, seconds)) ?? last;
  return {
    start: series(samples[0]),
    warmupPeak: Math.max(...samples.filter((s) => s.at < warmupAt).map(series), series(samples[0])),
    afterWarmup,
    end,
    growthAfterWarmup: end - afterWarmup,
    max: Math.max(...samples.map(series)),
    slopePerMinute: slope(samples.filter((s) => s.at >= warmupAt).map((s) => [s.at / 60, series(s)])),
  };
}

/** The curve as CSV, sizes in MB. */
export function curveCsv(samples: readonly MemorySample[]): string {
  const mb = (bytes: number | null) => (bytes === null ? "" : (bytes / 1e6).toFixed(1));
  const columns: [string, (s: MemorySample) => number | null][] = [
    ["workerd_rss_mb", (s) => s.rss],
    ["mesh_rss_mb", (s) => s.mesh],
    ["proxy_rss_mb", proxySeries],
    ["mesh_anon_mb", (s) => s.meshAnon],
    ["mesh_file_mb", (s) => s.meshFile],
    ["heap_mb", (s) => s.heap],
    ["storage_mb", (s) => s.storage],
  ];
  const lines = samples.map((s) => [s.at, ...columns.map(([, value]) => mb(value(s))), s.events].join(","));
  return `${["seconds", ...columns.map(([name]) => name), "events"].join(",")}\n${lines.join("\n")}\n`;
}

const BARS = "▁▂▃▄▅▆▇█";

/** Values as one line of bars, scaled from 0 to the largest (so flat reads as flat), at most `width` wide. */
export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return "";
  const step = Math.max(1, Math.ceil(values.length / width));
  const points: number[] = [];
  for (let i = 0; i < values.length; i += step) points.push(Math.max(...values.slice(i, i + step)));
  const top = Math.max(...points);
  return points.map((v) => BARS[top === 0 ? 0 : Math.round((v / top) * (BARS.length - 1))]).join("");
}

/** The summary's lines about memory: the mesh's workerd, wrangler's dev proxy, the state on disk. */
export function curveLines(samples: readonly MemorySample[], seconds: number): string[] {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
  const signed = (bytes: number) => {
    // `|| 0` turns a rounded -0 into 0, which then reads "+0 MB".
    const whole = Math.round(bytes / 1e6) || 0;
    return `${whole >= 0 ? "+" : ""}${whole} MB`;
  };
  const describe = (name: string, series: Series) => {
    const f = curveFigures(samples, seconds, series);
    return [
      `${name}: start ${mb(f.start)}, warm-up peak ${mb(f.warmupPeak)} (first third), after warm-up ${mb(f.afterWarmup)}, end ${mb(f.end)}, max ${mb(f.max)}; growth after warm-up ${signed(f.growthAfterWarmup)} (slope ${(f.slopePerMinute / 1e6).toFixed(1)} MB/min)`,
      `  ${sparkline(samples.map(series))} (0 to ${mb(f.max)})`,
    ];
  };
  const last = samples[samples.length - 1];
  return [
    `memory, ${samples.length} samples (test-output/soak/memory-curve.csv):`,
    ...describe("mesh workerd RSS", meshSeries),
    `  at the end ${mb(last.meshAnon)} anonymous, ${mb(last.meshFile)} file-backed`,
    ...describe("mesh JavaScript heap after a full collection", (s) => s.heap ?? 0),
    ...describe("wrangler dev proxy workerd RSS", proxySeries),
    ...describe("state on disk", (s) => s.storage),
  ];
}
function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function slope(points: [number, number][]): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((n, [x]) => n + x, 0) / points.length;
  const my = points.reduce((n, [, y]) => n + y, 0) / points.length;
  const sxy = points.reduce((n, [x, y]) => n + (x - mx) * (y - my), 0);
  const sxx = points.reduce((n, [x]) => n + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}
