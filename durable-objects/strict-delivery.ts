import { logLine } from "../runtime/log.ts";
import { type DeliveryContext, leaseMs } from "./delivery-context.ts";
import { afterFailure, CHECKPOINT_MS, checkpointDue, nextStep, type RunBudget } from "./delivery-planner.ts";
import { ReadAhead } from "./read-ahead.ts";
import { rowFilter } from "./row-filter.ts";
import type { SubscriptionRow } from "./subscription-store.ts";

/** Rows read from the log at a time for loops whose batches are smaller. */
const READ_AHEAD_ROWS = 32;

/**
 * Delivery in strict order: one delivery in flight, the next one sent as soon as the previous one
 * succeeded, in a loop for as long as events wait and the run's budget lasts. A lagging
 * subscription so catches up at the speed of its receiver, in batches of up to `batchSize`.
 *
 * The cursor lives in memory between checkpoints (see CHECKPOINT_MS): each checkpoint writes it
 * together with a lease on the next batch, and the loop's end writes where it stopped. After a
 * crash the alarm resends from the last checkpoint once the lease ran out, the first batch with the
 * same webhook id; events delivered since are delivered again (at least once, in order).
 */
export async function deliverStrict(ctx: DeliveryContext, name: string, cutoff: number, budget: RunBudget) {
  const { store, log } = ctx;
  const first = store.get(name);
  if (first?.state !== "active" || first.nextAttemptAt === null || first.nextAttemptAt > Math.max(cutoff, Date.now()))
    return;
  const { version } = first;
  let cursor = first.cursor;
  /** The cursor as SQLite has it. */
  let saved = first.cursor;
  let batchEnd = first.batchEnd;
  let failure = { attempts: first.attempts, firstFailureAt: first.firstFailureAt };
  /** Events delivered since the last write. */
  let unsaved = 0;
  let checkpointAt: number | null = null;
  const topic = ctx.topic();
  const fresh = { attempts: 0, firstFailureAt: null };
  let sub: SubscriptionRow | null = first;
  /** `store.changes` when `sub` was read: the row is read again only after a write. */
  let readAt = store.changes;
  const ahead = new ReadAhead((after, limit) => log.read(after, limit, first.config.types), READ_AHEAD_ROWS);
  // Progress not yet written, written in the same step as what ends the loop (synchronous: one commit).
  const save = () => cursor !== saved && store.advance(name, version, cursor, unsaved, Date.now(), true);
  // One `delivered` line per run of successes, not per batch: at batch size 1 a line each cost CPU.
  let delivered: { from: number; to: number; attempt: number; events: number; batches: number } | null = null;
  const logDelivered = () => {
    if (delivered) logLine("delivered", { topic, subscription: name, ...delivered });
    delivered = null;
  };
  try {
    await loop();
  } finally {
    logDelivered();
  }

  async function loop(): Promise<void> {
    for (;;) {
      // Re-read after any write: a pause, seek, update or delete (a new version) ends the loop
      // unwritten; a rotated secret is used from the next send on.
      if (store.changes !== readAt) [sub, readAt] = [store.get(name), store.changes];
      if (sub?.version !== version || sub.state !== "active") return;
      const { config } = sub;
      const { head, oldest } = log.position();
      // Events after the cursor were removed by retention before delivery reached them.
      if (cursor < oldest - 1) {
        save();
        const gap = { from: cursor + 1, to: oldest - 1 };
        const onGap = config.onGap ?? "pause";
        logDelivered();
        logLine("subscription gap", { topic, subscription: name, ...gap, policy: onGap });
        if (!store.recordGap(name, version, gap, onGap, Date.now()) || onGap !== "continue") return;
        [cursor, saved, batchEnd, unsaved, failure] = [gap.to, gap.to, null, 0, fresh];
        continue;
      }
      const step = nextStep(cursor, head, batchEnd, ahead.take(cursor, config.batchSize), rowFilter(config.filters));
      if (step.kind === "skip") {
        [cursor, batchEnd, failure] = [step.cursor, null, fresh];
        // Filters pass a long stretch one read at a time: the run's time bounds that as it bounds sends.
        if (budget.expired(Date.now())) {
          save();
          return;
        }
        continue;
      }
      if (step.kind === "idle") {
        // Caught up: due again only if an append came in meanwhile.
        store.advance(name, version, cursor, unsaved, Date.now(), cursor < log.head);
        return;
      }
      if (!budget.take(Date.now())) {
        // The run's budget is spent: the subscription stays due and the next run goes on.
        save();
        return;
      }
      const now = Date.now();
      if (checkpointDue(checkpointAt, now)) {
        const until = now + leaseMs(config) + CHECKPOINT_MS;
        if (!store.checkpoint(name, version, { cursor, delivered: unsaved, ...failure }, step.end, until, now)) return;
        [saved, unsaved, checkpointAt] = [cursor, 0, now];
        await ctx.arm();
      }
      const attempt = failure.attempts + 1;
      const result = await ctx.send(sub, step.rows, attempt);
      const range = { topic, subscription: name, from: step.rows[0].seq, to: step.end, attempt };
      if (result.ok) {
        delivered = delivered
          ? { ...delivered, to: step.end, events: delivered.events + step.rows.length, batches: delivered.batches + 1 }
          : { from: range.from, to: step.end, attempt, events: step.rows.length, batches: 1 };
        [cursor, batchEnd, unsaved, failure] = [step.end, null, unsaved + step.rows.length, fresh];
        continue;
      }
      const at = Date.now();
      save();
      logDelivered();
      const outcome = afterFailure(failure, config.retry, config.onExhausted, at, ctx.random);
      switch (outcome.kind) {
        case "retry":
          logLine("delivery failed", { ...range, error: result.error, retryInMs: outcome.delayMs });
          store.scheduleRetry(name, version, step.end, outcome, result.error, at);
          return;
        case "pause":
          logLine("subscription paused", { ...range, error: result.error, attempts: outcome.attempts });
          store.pauseExhausted(name, version, outcome.attempts, result.error, at);
          return;
        case "dead-letter":
          logLine("subscription dead letter", { ...range, error: result.error, attempts: outcome.attempts });
          if (!store.deadLetter(name, version, step.rows, step.end, outcome, result.error, at)) return;
          // The next send claims its batch again before it leaves.
          [cursor, saved, batchEnd, unsaved, failure, checkpointAt] = [step.end, step.end, null, 0, fresh, null];
      }
    }
  }
}
