import { webhookBodyText } from "../protocol/subscriptions.ts";
import { logLine } from "../runtime/log.ts";
import { type DeliveryContext, type EventRow, leaseMs } from "./delivery-context.ts";
import { afterFailure, RunBudget } from "./delivery-planner.ts";
import type { LogStore } from "./log-store.ts";
import { sendToQueue } from "./queue-sender.ts";
import { deliverStrict } from "./strict-delivery.ts";
import type { SubscriptionRow, SubscriptionStore } from "./subscription-store.ts";
import { deliverUnordered } from "./unordered-delivery.ts";
import { type SendResult, sendWebhook } from "./webhook-sender.ts";

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
 * Delivers due subscriptions, side by side, each in its own loop (strict-delivery.ts, or
 * unordered-delivery.ts when it chose so) until it is caught up or the run's budget (sends and
 * time, shared) is spent. Runs are serialized, so an alarm
 * run early never overlaps one in flight.
 */
export class SubscriptionDispatcher {
  private running: Promise<void> = Promise.resolve();
  private readonly delivery: DeliveryContext;

  constructor(private readonly ctx: DispatcherContext) {
    this.delivery = { ...ctx, send: (sub, rows, attempt) => this.send(sub, rows, attempt) };
  }

  run(cutoff: number): Promise<void> {
    const next = this.running.then(() => this.runDue(cutoff));
    this.running = next.catch(() => {});
    return next;
  }

  private async runDue(cutoff: number): Promise<void> {
    const names = this.ctx.store.dueNames(cutoff);
    const budget = new RunBudget(Date.now());
    await Promise.all(names.map((name) => this.runSubscription(name, cutoff, budget)));
  }

  private async runSubscription(name: string, cutoff: number, budget: RunBudget): Promise<void> {
    // Redriven dead letters are older than anything after the cursor: they go first.
    while (await this.redriveOnce(name, cutoff, budget));
    const ordering = this.ctx.store.get(name)?.config.delivery.ordering;
    const deliver = ordering === "unordered" ? deliverUnordered : deliverStrict;
    await deliver(this.delivery, name, cutoff, budget);
  }

  /** One batch of requested redrives; true when more are due right away. */
  private async redriveOnce(name: string, cutoff: number, budget: RunBudget): Promise<boolean> {
    const { store } = this.ctx;
    const sub = store.get(name);
    if (sub?.state !== "active") return false;
    const due = store.deadLetters.dueRedrives(name, Math.max(cutoff, Date.now()), sub.config.batchSize);
    if (due.length === 0 || !budget.take(Date.now())) return false;
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
