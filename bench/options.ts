/**
 * Every count and time bound of a run. The full run fits in under 10 minutes on a 2-core machine;
 * the quick run exercises every code path in well under a minute (CI keeps the harness working).
 */
export interface BenchOptions {
  quick: boolean;
  outDir: string;
  /** Repetitions of each measurement; the reported figure is their median. */
  repetitions: number;
  throughput: { seconds: number; maxEvents: number; concurrency: number; topics: number; batchSize: number };
  latency: { rates: number[]; seconds: number; subscribers: number; drainSeconds: number };
  fanout: { sizes: { subscribers: number; events: number }[]; timeoutSeconds: number };
  catchup: { events: number; historyPage: number; timeoutSeconds: number };
  /** Subscribers held open to measure the runtime's memory; the figure is scaled to 1,000. */
  memorySubscribers: number;
}

const FULL: Omit<BenchOptions, "quick" | "outDir"> = {
  repetitions: 3,
  throughput: { seconds: 2, maxEvents: 200_000, concurrency: 8, topics: 100, batchSize: 100 },
  latency: { rates: [100, 500], seconds: 3, subscribers: 100, drainSeconds: 5 },
  fanout: {
    sizes: [
      { subscribers: 100, events: 500 },
      { subscribers: 1000, events: 100 },
    ],
    timeoutSeconds: 30,
  },
  catchup: { events: 100_000, historyPage: 1000, timeoutSeconds: 90 },
  memorySubscribers: 1000,
};

const QUICK: Omit<BenchOptions, "quick" | "outDir"> = {
  repetitions: 1,
  throughput: { seconds: 0.3, maxEvents: 5_000, concurrency: 4, topics: 10, batchSize: 100 },
  latency: { rates: [100], seconds: 0.5, subscribers: 5, drainSeconds: 5 },
  fanout: {
    sizes: [
      { subscribers: 10, events: 20 },
      { subscribers: 50, events: 10 },
    ],
    timeoutSeconds: 10,
  },
  catchup: { events: 2_000, historyPage: 1000, timeoutSeconds: 20 },
  memorySubscribers: 50,
};

/** Reads `--quick` and `--out DIR`; anything else is refused so a typo does not run the long bench. */
export function parseOptions(argv: string[], defaultOutDir: string, quickOutDir: string): BenchOptions {
  let quick = false;
  let outDir: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") quick = true;
    else if (arg === "--out" && i + 1 < argv.length) outDir = argv[++i];
    else if (arg.startsWith("--out=")) outDir = arg.slice("--out=".length);
    else throw new Error(`unknown bench option "${arg}" (use --quick and/or --out DIR)`);
  }
  return { ...(quick ? QUICK : FULL), quick, outDir: outDir ?? (quick ? quickOutDir : defaultOutDir) };
}
