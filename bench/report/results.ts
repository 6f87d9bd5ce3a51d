import type { Row } from "../lib/rows.ts";
import type { BenchOptions } from "../options.ts";
import type { HubsPoint } from "../suites/hubs.ts";
import type { LatencySeries } from "../suites/latency.ts";

/** What one run writes to bench/results/<name>.json (the Markdown report is made from it). */
export interface BenchResults {
  name: string;
  date: string;
  quick: boolean;
  durationSeconds: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    os: string;
    node: string;
    wrangler: string;
    workerd: string;
    natsServer: string;
    redisServer: string;
  };
  /** The commit the mesh was bundled from, and whether the work tree had changes on top of it. */
  source: { commit: string; dirty: boolean };
  settings: Omit<BenchOptions, "outDir" | "report">;
  rows: Row[];
  latency: LatencySeries[];
  /** The hubs suite's measurements per configuration and size (its chart is drawn from them). */
  hubs: HubsPoint[];
}

/** The keys every results file has (the smoke test checks them). */
export const RESULT_KEYS = [
  "name",
  "date",
  "quick",
  "durationSeconds",
  "machine",
  "settings",
  "rows",
  "latency",
  "hubs",
] as const;
