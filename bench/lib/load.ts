import { nowMs } from "./events.ts";
import { sleep } from "./stats.ts";

/**
 * Closed loop: `concurrency` workers each run `op` back to back until `seconds` pass or
 * `maxEvents` are sent. `op` carries `eventsPerOp` events. Returns acknowledged events per second.
 */
export async function closedLoop(
  opts: { concurrency: number; seconds: number; maxEvents: number; eventsPerOp: number },
  op: (n: number) => Promise<void>,
): Promise<number> {
  const start = nowMs();
  const deadline = start + opts.seconds * 1000;
  const maxOps = Math.max(1, Math.floor(opts.maxEvents / opts.eventsPerOp));
  let issued = 0;
  let done = 0;
  const worker = async () => {
    while (nowMs() < deadline && issued < maxOps) {
      const n = issued++;
      await op(n);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return (done * opts.eventsPerOp) / ((nowMs() - start) / 1000);
}

/**
 * Open loop at a fixed rate: event i is due at `t0 + i / rate` whatever happened to earlier ones,
 * and `send` gets that scheduled time, so a stall shows up as latency of every event it delayed
 * (no coordinated omission). In-flight sends are capped; hitting the cap delays sends, never drops them.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  send: (scheduledMs: number) => Promise<void>,
  maxInFlight = 2_000,
): Promise<{ scheduled: number[]; errors: number; firstError: string | null }> {
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const t0 = nowMs() + 20;
  const scheduled: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let errors = 0;
  let firstError: string | null = null;
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    scheduled.push(due);
    // Never early (that would shorten the measured latency); a timer may be up to a millisecond late,
    // which counts against whichever system is measured, all alike.
    for (let wait = due - nowMs(); wait > 0; wait = due - nowMs()) await sleep(Math.ceil(wait));
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const p: Promise<void> = send(due)
      .catch((err: unknown) => {
        errors += 1;
        firstError ??= String(err);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { scheduled, errors, firstError };
}
