/**
 * Every count and time bound of a run. The full run takes 14–15 minutes on a 2-core machine;
 * the quick run exercises every code path in well under a minute (CI keeps the harness working).
 */
export const SUITES = ["throughput", "latency", "fanout", "catchup", "memory", "delivery", "hubs", "presence"] as const;
export type SuiteName = (typeof SUITES)[number];

export interface BenchOptions {
  quick: boolean;
  outDir: string;
  /** The suites to run (all unless `--only` names some). */
  suites: SuiteName[];
  /** `--report FILE`: run nothing, write the report of an existing results file again. */
  report: string | null;
  /** Repetitions of each measurement; the reported figure is their median. */
  repetitions: number;
  throughput: { seconds: number; maxEvents: number; concurrency: number; topics: number; batchSize: number };
  /**
   * `repetitions` here, not the run's: the latency rows' runs spread wider (5.6–12.2 ms for the mesh
   * at 100 events/s across runs) than the gap between the mesh and its targets.
   */
  latency: { rates: number[]; seconds: number; subscribers: number; drainSeconds: number; repetitions: number };
  fanout: { sizes: { subscribers: number; events: number }[]; timeoutSeconds: number };
  catchup: { events: number; historyPage: number; timeoutSeconds: number };
  /** Subscribers held open to measure the runtime's memory; the figure is scaled to 1,000. */
  memorySubscribers: number;
  /** Events a webhook subscription catches up on (at most `seconds` per measurement), per batch size. */
  delivery: { events: number; seconds: number; batchSizes: number[] };
  /**
   * One topic's audience on hubs against all on the topic's object: subscriber counts, single-event
   * publishes at `rate` for `seconds`, up to `drainSeconds` for every copy to arrive; the mesh runs
   * with `HUB_MAX_SOCKETS = hubMaxSockets`, so the hubs used grow with the audience. One sample
   * per size (opening 10,000 sockets twice is most of the suite's time).
   */
  hubs: {
    sizes: number[];
    rate: number;
    seconds: number;
    drainSeconds: number;
    hubMaxSockets: number;
    openTimeoutSeconds: number;
    settleMs: number;
    /**
     * The topic object's cost of one push to one hub: a fixed audience of `subscribers` on one
     * topic, spread over each of `hubCounts` hubs (`HUB_MAX_SOCKETS = subscribers / hubs`, each
     * on its own workerd), `connectAttempts` so the Worker finds free hubs among many full ones.
     */
    pushCost: { subscribers: number; hubCounts: number[]; connectAttempts: number };
  };
  /** Members entering and leaving one topic for the rates; members present for the large room. */
  presence: { members: number; occupancyMembers: number; timeoutSeconds: number };
}

type Preset = Omit<BenchOptions, "quick" | "outDir" | "suites" | "report">;

const FULL: Preset = {
  repetitions: 3,
  throughput: { seconds: 2, maxEvents: 200_000, concurrency: 8, topics: 100, batchSize: 100 },
  latency: { rates: [100, 500], seconds: 3, subscribers: 100, drainSeconds: 5, repetitions: 5 },
  fanout: {
    sizes: [
      { subscribers: 100, events: 500 },
      { subscribers: 1000, events: 100 },
    ],
    timeoutSeconds: 30,
  },
  catchup: { events: 100_000, historyPage: 1000, timeoutSeconds: 90 },
  memorySubscribers: 1000,
  delivery: { events: 30_000, seconds: 6, batchSizes: [1, 100] },
  hubs: {
    sizes: [1000, 5000, 10_000],
    rate: 10,
    seconds: 2,
    drainSeconds: 60,
    hubMaxSockets: 2500,
    openTimeoutSeconds: 120,
    settleMs: 1000,
    pushCost: { subscribers: 1000, hubCounts: [1, 10, 50], connectAttempts: 12 },
  },
  presence: { members: 1000, occupancyMembers: 10_000, timeoutSeconds: 180 },
};

// Smoke sizes: every suite, target and output path runs once, as briefly as still yields a figure.
// One size per suite where the full run sweeps several; the push-cost sweep keeps two hub counts
// (a line needs two points).
const QUICK: Preset = {
  repetitions: 1,
  throughput: { seconds: 0.15, maxEvents: 5_000, concurrency: 4, topics: 10, batchSize: 100 },
  latency: { rates: [100], seconds: 0.3, subscribers: 5, drainSeconds: 5, repetitions: 1 },
  fanout: { sizes: [{ subscribers: 20, events: 10 }], timeoutSeconds: 10 },
  catchup: { events: 2_000, historyPage: 1000, timeoutSeconds: 20 },
  memorySubscribers: 50,
  delivery: { events: 300, seconds: 1, batchSizes: [1, 100] },
  hubs: {
    sizes: [20],
    rate: 20,
    seconds: 0.5,
    drainSeconds: 10,
    hubMaxSockets: 2500,
    openTimeoutSeconds: 20,
    settleMs: 100,
    // Each point starts a workerd of its own.
    pushCost: { subscribers: 20, hubCounts: [1, 5], connectAttempts: 12 },
  },
  presence: { members: 20, occupancyMembers: 50, timeoutSeconds: 30 },
};

/**
 * Reads `--quick`, `--out DIR`, `--only suite[,suite]` and `--report FILE`; anything else is refused so a typo does
 * not start the long run.
 */
export function parseOptions(argv: string[], defaultOutDir: string, scratchOutDir: string): BenchOptions {
  let quick = false;
  let outDir: string | null = null;
  let suites: SuiteName[] = [...SUITES];
  let report: string | null = null;
  const value = (arg: string, i: number, name: string): [string, number] => {
    if (arg.startsWith(`${name}=`)) return [arg.slice(name.length + 1), i];
    if (i + 1 < argv.length) return [argv[i + 1], i + 1];
    throw new Error(`${name} needs a value`);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") quick = true;
    else if (arg === "--out" || arg.startsWith("--out=")) [outDir, i] = value(arg, i, "--out");
    else if (arg === "--report" || arg.startsWith("--report=")) [report, i] = value(arg, i, "--report");
    else if (arg === "--only" || arg.startsWith("--only=")) {
      let list: string;
      [list, i] = value(arg, i, "--only");
      const names = list.split(",").map((s) => s.trim());
      const unknown = names.filter((n) => !(SUITES as readonly string[]).includes(n));
      if (unknown.length > 0) throw new Error(`unknown suite(s) ${unknown.join(", ")}; use ${SUITES.join(", ")}`);
      suites = SUITES.filter((s) => names.includes(s));
    } else
      throw new Error(
        `unknown bench option "${arg}" (use --quick, --out DIR, --only ${SUITES.join(",")}, --report FILE)`,
      );
  }
  // Smoke runs and partial runs stay out of bench/results unless told otherwise.
  const partial = quick || suites.length < SUITES.length;
  return {
    ...(quick ? QUICK : FULL),
    quick,
    outDir: outDir ?? (partial ? scratchOutDir : defaultOutDir),
    suites,
    report,
  };
}
