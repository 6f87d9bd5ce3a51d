import { type SubscriptionConfig, webhookBodyText } from "../protocol/subscriptions.ts";
import { logLine } from "../runtime/log.ts";
import { afterFailure, nextStep } from "./delivery-planner.ts";
import type { LogStore, StoredRow } from "./log-store.ts";
import { sendToQueue } from "./queue-sender.ts";
import type { SubscriptionRow, SubscriptionStore } from "./subscription-store.ts";
import { type SendResult, sendWebhook } from "./webhook-sender.ts";

/** An event as it is sent: its seq and its stored JSON. */
type EventRow = Pick<StoredRow, "seq" | "body">;

/** Batches one subscription may deliver in one alarm run before yielding to the next run. */
const MAX_BATCHES_PER_RUN = 20;
/** Beyond a send's own timeout: how long a claimed delivery waits before it counts as lost. */
const LEASE_MARGIN_MS = 5_000;
const QUEUE_SEND_LEASE_MS = 30_000;

export interface DispatcherContext {
  store: SubscriptionStore;
  log: LogStore;
  /** Bindings, for queue targets. */
  env: object;
  /** The topic's name, as stored when the object was first used. */
  topic: () => string;
  /** Re-arms the object's single alarm from the due times in SQLite. */
  arm: () => Promise<void>;
  random?: () => number;
}

/**
 * Delivers due subscriptions, each in seq order. Subscriptions run side by side; within one,
 * the next batch goes out only after the previous one succeeded or was given up, which is what
 * keeps delivery in order. Runs are serialized, so an alarm run early never overlaps one in flight.
 */
export class SubscriptionDispatcher {
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: DispatcherContext) {}

  run(cutoff: number): Promise<void> {
    const next = this.running.then(() => this.runDue(cutoff));
    this.running = next.catch(() => {});
    return next;
  }

  private async runDue(cutoff: number): Promise<void> {
    const names = this.ctx.store.dueNames(cutoff);
    await Promise.all(names.map((name) => this.runSubscription(name, cutoff)));
  }

  private async runSubscription(name: string, cutoff: number): Promise<void> {
    // Redriven dead letters are older than anything after the cursor: they go first.
    for (let i = 0; i < MAX_BATCHES_PER_RUN && (await this.redriveOnce(name, cutoff)); i++);
    for (let i = 0; i < MAX_BATCHES_PER_RUN && (await this.deliverOnce(name, cutoff)); i++);
  }

  /** One step of the cursor; true when the subscription has more to deliver right away. */
  private async deliverOnce(name: string, cutoff: number): Promise<boolean> {
    const { store, log } = this.ctx;
    const sub = store.get(name);
    const limit = Math.max(cutoff, Date.now());
    if (sub?.state !== "active" || sub.nextAttemptAt === null || sub.nextAttemptAt > limit) return false;
    const { config } = sub;
    const { head, oldest } = log.position();
    // Events after the cursor were removed by retention before delivery reached them.
    if (sub.cursor < oldest - 1) {
      const gap = { from: sub.cursor + 1, to: oldest - 1 };
      const onGap = config.onGap ?? "pause";
      logLine("subscription gap", { topic: this.ctx.topic(), subscription: name, ...gap, policy: onGap });
      return store.recordGap(name, sub.version, gap, onGap, Date.now()) && onGap === "continue";
    }
    const rows = log.read(sub.cursor, config.batchSize, config.types);
    const step = nextStep(sub.cursor, head, sub.batchEnd, rows);
    if (step.kind === "idle") {
      store.advance(name, sub.version, sub.cursor, 0, Date.now(), false);
      return false;
    }
    if (step.kind === "skip") return store.advance(name, sub.version, step.cursor, 0, Date.now(), step.cursor < head);

    const leased = store.lease(name, sub.version, step.end, Date.now() + leaseMs(config));
    if (!leased) return false;
    await this.ctx.arm();
    const attempt = sub.attempts + 1;
    const result = await this.send(sub, step.rows, attempt);
    const now = Date.now();
    const range = { topic: this.ctx.topic(), subscription: name, from: step.rows[0].seq, to: step.end, attempt };
    if (result.ok) {
      logLine("delivered", { ...range, events: step.rows.length });
      return store.advance(name, sub.version, step.end, step.rows.length, now, step.end < log.head);
    }
    const outcome = afterFailure(sub, config.retry, config.onExhausted, now, this.ctx.random);
    switch (outcome.kind) {
      case "retry":
        logLine("delivery failed", { ...range, error: result.error, retryInMs: outcome.delayMs });
        store.scheduleRetry(name, sub.version, outcome, result.error, now);
        return false;
      case "pause":
        logLine("subscription paused", { ...range, error: result.error, attempts: outcome.attempts });
        store.pauseExhausted(name, sub.version, outcome.attempts, result.error, now);
        return false;
      case "dead-letter":
        logLine("subscription dead letter", { ...range, error: result.error, attempts: outcome.attempts });
        return store.deadLetter(name, sub.version, step.rows, step.end, outcome, result.error, now);
    }
  }

  /** One batch of requested redrives; true when more are due right away. */
  private async redriveOnce(name: string, cutoff: number): Promise<boolean> {
    const { store } = this.ctx;
    const sub = store.get(name);
    if (sub?.state !== "active") return false;
    const due = store.deadLetters.dueRedrives(name, Math.max(cutoff, Date.now()), sub.config.batchSize);
    if (due.length === 0) return false;
    const seqs = due.map((d) => d.seq);
    store.deadLetters.setRedriveAt(name, seqs, Date.now() + leaseMs(sub.config));
    await this.ctx.arm();
    const attempt = due[0].redriveAttempts + 1;
    const rows = due.map((d) => ({ seq: d.seq, body: d.event }));
    const result = await this.send(sub, rows, attempt);
    const now = Date.now();
    const range = { topic: this.ctx.topic(), subscription: name, seqs, attempt };
    if (result.ok) {
      store.deadLetters.delete(name, seqs);
      logLine("redrive delivered", range);
      return true;
    }
    const outcome = afterFailure(
      { attempts: due[0].redriveAttempts, firstFailureAt: null },
      sub.config.retry,
      "dead-letter",
      now,
      this.ctx.random,
    );
    const nextAttemptAt = outcome.kind === "retry" ? outcome.nextAttemptAt : null;
    store.deadLetters.redriveFailed(name, seqs, { attempts: outcome.attempts, nextAttemptAt }, result.error, now);
    logLine(nextAttemptAt === null ? "redrive gave up" : "redrive failed", { ...range, error: result.error });
    return false;
  }

  private send(sub: SubscriptionRow, rows: EventRow[], attempt: number): Promise<SendResult> {
    const topic = this.ctx.topic();
    const { target } = sub.config;
    if (target.type === "queue") return sendToQueue(this.ctx.env, target.queue, topic, sub.name, rows);
    const first = rows[0].seq;
    const last = rows[rows.length - 1].seq;
    // The id names the events, so every attempt at the same delivery carries the same id.
    const id = `${topic}:${sub.name}:${first === last ? first : `${first}-${last}`}`;
    const body = webhookBodyText(
      topic,
      sub.name,
      rows.map((r) => r.body),
    );
    const headers: Record<string, string> = { "x-mesh-attempt": String(attempt) };
    const traceparent = (JSON.parse(rows[0].body) as { traceparent?: unknown }).traceparent;
    if (typeof traceparent === "string") headers.traceparent = traceparent;
    // putSubscription always stores a secret for a webhook (the given one or a generated one).
    const secrets = [target.secret!];
    if (sub.retiringSecret !== null && (sub.retiringUntil ?? 0) > Date.now()) secrets.push(sub.retiringSecret);
    return sendWebhook({ url: target.url, secrets, timeoutMs: target.timeoutMs, id, body, headers });
  }
}

function leaseMs(config: SubscriptionConfig): number {
  return (config.target.type === "webhook" ? config.target.timeoutMs : QUEUE_SEND_LEASE_MS) + LEASE_MARGIN_MS;
}
