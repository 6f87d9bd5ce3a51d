import { logLine } from "../runtime/log.ts";
import { type DeliveryContext, leaseMs } from "./delivery-context.ts";
import { afterFailure, dispatchRoom, nextStep, type RunBudget } from "./delivery-planner.ts";
import type { StoredRow } from "./log-store.ts";
import { rowFilter } from "./row-filter.ts";
import type { SubscriptionRow } from "./subscription-store.ts";

/**
 * Unordered delivery: up to `maxInFlight` deliveries at once, each of up to `batchSize` events.
 * Every delivery is a row in SQLite (subscription-deliveries.ts), claimed before it is sent; one
 * that fails is retried on its own backoff schedule (and dead-lettered on its own) while later
 * events go on. The cursor is the seq before the lowest one not yet done. The loop runs while
 * deliveries are in flight or can start, within the run's budget; a crash leaves claimed rows that
 * are sent again when their lease runs out.
 */
export async function deliverUnordered(ctx: DeliveryContext, name: string, cutoff: number, budget: RunBudget) {
  const { store, log } = ctx;
  const first = store.get(name);
  if (first?.state !== "active") return;
  const { version } = first;
  const topic = ctx.topic();
  const inFlight = new Map<number, Promise<void>>();
  let spent = false;

  const launch = (sub: SubscriptionRow, from: number, to: number, attempts: number, firstFailureAt: number | null) => {
    const filter = rowFilter(sub.config.filters);
    const rows = log
      .read(from - 1, sub.config.batchSize, sub.config.types)
      .filter((r) => r.seq <= to && (filter === null || filter(r)));
    const task = deliver(ctx, sub, from, to, rows, { attempts, firstFailureAt }).finally(() => inFlight.delete(from));
    inFlight.set(from, task);
  };

  for (;;) {
    const sub = store.get(name);
    if (sub?.version !== version || sub.state !== "active") break;
    const { config } = sub;
    const maxInFlight = config.delivery.ordering === "unordered" ? config.delivery.maxInFlight : 1;
    const { head, oldest } = log.position();
    // Events not yet done were removed by retention before delivery reached them.
    if (sub.cursor < oldest - 1 && inFlight.size === 0) {
      const gap = { from: sub.cursor + 1, to: oldest - 1 };
      const onGap = config.onGap ?? "pause";
      logLine("subscription gap", { topic, subscription: name, ...gap, policy: onGap });
      if (!store.recordGap(name, version, gap, onGap, Date.now()) || onGap !== "continue") break;
      continue;
    }
    const starts: (() => void)[] = [];
    const now = Date.now();
    const until = now + leaseMs(config);
    // Retries that are due, and sends a crash cut off (their lease ran out), first.
    const free = maxInFlight - inFlight.size;
    for (const d of free > 0 ? store.deliveries.due(name, Math.max(cutoff, now), free) : []) {
      if (inFlight.has(d.from) || d.from <= oldest - 1) continue;
      if (!budget.take(now)) {
        spent = true;
        break;
      }
      if (!store.claimRetry(name, version, d.from, d.to, until)) break;
      starts.push(() => launch(sub, d.from, d.to, d.attempts, d.firstFailureAt));
    }
    // Then new events, from the last one handed out.
    const counts = store.deliveries.counts(name);
    let room = dispatchRoom(maxInFlight, inFlight.size + starts.length, counts.retrying);
    let dispatched = sub.dispatched ?? sub.cursor;
    // Not past a gap: it is recorded (above) once nothing is in flight.
    while (room > 0 && !spent && dispatched >= oldest - 1) {
      const rows = log.read(dispatched, config.batchSize, config.types);
      const step = nextStep(dispatched, head, null, rows, rowFilter(config.filters));
      if (step.kind === "idle") break;
      if (step.kind === "skip") {
        if (!store.skipTo(name, version, step.cursor)) break;
        dispatched = step.cursor;
        // Filters pass a long stretch one read at a time: the run's time bounds that as it bounds sends.
        if (budget.expired(Date.now())) {
          spent = true;
          break;
        }
        continue;
      }
      if (!budget.take(now)) {
        spent = true;
        break;
      }
      const from = step.rows[0].seq;
      if (!store.dispatch(name, version, from, step.end, until)) break;
      dispatched = step.end;
      room -= 1;
      starts.push(() => launch(sub, from, step.end, 0, null));
    }
    if (starts.length > 0) {
      // The claims are in SQLite and the alarm covers their leases before anything is sent.
      await ctx.arm();
      for (const start of starts) start();
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  await Promise.all(inFlight.values());
  // Due again now if new events wait and the run stopped short; otherwise the next append wakes it.
  const last = store.get(name);
  if (last?.version === version && last.dispatched !== null) {
    const more =
      last.dispatched < log.head && (spent || dispatchRoom(1, 0, store.deliveries.counts(name).retrying) > 0);
    store.setDispatchDue(name, version, more ? Date.now() : null);
  }
}

/** One delivery and what its answer leads to, written with the version the loop started from. */
async function deliver(
  ctx: DeliveryContext,
  sub: SubscriptionRow,
  from: number,
  to: number,
  rows: StoredRow[],
  failure: { attempts: number; firstFailureAt: number | null },
): Promise<void> {
  const { store } = ctx;
  const { name, version, config } = sub;
  if (rows.length === 0) {
    // Nothing of it is left to send (its events were filtered or trimmed): it is done.
    store.unorderedDelivered(name, version, from, 0, Date.now());
    return;
  }
  const attempt = failure.attempts + 1;
  const result = await ctx.send(sub, rows, attempt);
  const now = Date.now();
  const range = { topic: ctx.topic(), subscription: name, from: rows[0].seq, to, attempt };
  if (result.ok) {
    logLine("delivered", { ...range, events: rows.length, batches: 1 });
    store.unorderedDelivered(name, version, from, rows.length, now);
    return;
  }
  const outcome = afterFailure(failure, config.retry, config.onExhausted, now, ctx.random);
  switch (outcome.kind) {
    case "retry":
      logLine("delivery failed", { ...range, error: result.error, retryInMs: outcome.delayMs });
      store.unorderedRetry(name, version, from, outcome, result.error, now);
      return;
    case "pause":
      logLine("subscription paused", { ...range, error: result.error, attempts: outcome.attempts });
      store.unorderedPause(name, version, from, outcome, result.error, now);
      return;
    case "dead-letter":
      logLine("subscription dead letter", { ...range, error: result.error, attempts: outcome.attempts });
      store.unorderedDeadLetter(name, version, from, rows, outcome, result.error, now);
  }
}
