import { DurableObject } from "cloudflare:workers";
import type { Env } from "../runtime/env.ts";
import { type ClaimResult, type LedgerStatus, LedgerStore } from "./ledger-store.ts";

/**
 * How long one run of a handler holds an event. A delivery that finds the lease held waits until
 * it expires; a run that outlives it (or whose Worker died) lets the next delivery run again.
 */
export const LEASE_MS = 5 * 60_000;

/**
 * How long a record is kept after its last change: Queues keep a message at most 14 days, so no
 * duplicate from the queue can arrive later than that.
 */
export const LEDGER_RETENTION_MS = 14 * 24 * 60 * 60_000;

/**
 * The processing ledger of one consumer (one instance per consumer name): the idempotency record
 * that makes at-least-once delivery run each handler effect once, and the last error of each
 * failing event for the dead-letter consumer.
 */
export class ConsumerLedger extends DurableObject<Env> {
  private readonly store: LedgerStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LedgerStore(ctx.storage.sql);
  }

  async claim(source: string, id: string): Promise<ClaimResult> {
    const result = this.store.claim(source, id, Date.now(), LEASE_MS);
    if (result.ok) await this.armPrune();
    return result;
  }

  async complete(source: string, id: string): Promise<void> {
    this.store.complete(source, id, Date.now());
  }

  /** Records a failed attempt with its error; returns the event's failed attempts so far. */
  async fail(source: string, id: string, token: string, error: string): Promise<number> {
    return this.store.fail(source, id, token, error, Date.now());
  }

  async status(source: string, id: string): Promise<LedgerStatus | null> {
    return this.store.status(source, id);
  }

  override async alarm(): Promise<void> {
    this.store.prune(Date.now() - LEDGER_RETENTION_MS);
    await this.armPrune(true);
  }

  /** One alarm, at the time the oldest record falls out of retention. */
  private async armPrune(rearm = false): Promise<void> {
    if (!rearm && (await this.ctx.storage.getAlarm()) !== null) return;
    const oldest = this.store.oldestUpdate();
    if (oldest !== null) await this.ctx.storage.setAlarm(oldest + LEDGER_RETENTION_MS);
  }
}

/** The ledger of the consumer named `consumer`. */
export function consumerLedger(env: Env, consumer: string) {
  return env.CONSUMER_LEDGER.get(env.CONSUMER_LEDGER.idFromName(consumer));
}
