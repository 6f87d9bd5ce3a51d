import { DurableObject } from "cloudflare:workers";
import type { DeadLetter } from "../protocol/dead-letters.ts";
import type { Env } from "../runtime/env.ts";
import { DeadLetterTable, type QueueDeadLetterFilter, type QueueDeadLetterInput } from "./dead-letter-table.ts";

export type DeadLetterLookup =
  | { ok: true; deadLetter: DeadLetter; message: string }
  | { ok: false; code: "dead_letter_not_found" };

/**
 * The queue dead letters of the deployment (one instance): each message the dead-letter queue
 * received, per consumer, until it is redriven successfully or deleted. Subscription dead letters
 * live in their topic's Durable Object instead.
 */
export class DeadLetterStore extends DurableObject<Env> {
  private readonly table: DeadLetterTable;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.table = new DeadLetterTable(ctx.storage.sql);
  }

  async record(input: QueueDeadLetterInput): Promise<DeadLetter> {
    return this.table.record(input);
  }

  async page(filter: QueueDeadLetterFilter, after: number, limit: number): Promise<DeadLetter[]> {
    return this.table.page(filter, after, limit);
  }

  async get(consumer: string, n: number): Promise<DeadLetterLookup> {
    const found = this.table.get(consumer, n);
    return found === null ? { ok: false, code: "dead_letter_not_found" } : { ok: true, ...found };
  }

  async delete(consumer: string, n: number): Promise<{ ok: true } | { ok: false; code: "dead_letter_not_found" }> {
    if (this.table.get(consumer, n) === null) return { ok: false, code: "dead_letter_not_found" };
    this.table.remove(n);
    return { ok: true };
  }

  async resolve(consumer: string, source: string, eventId: string): Promise<boolean> {
    return this.table.resolve(consumer, source, eventId);
  }
}

/** The single queue dead-letter store. */
export function deadLetterStore(env: Env) {
  return env.DEAD_LETTERS.get(env.DEAD_LETTERS.idFromName("queue"));
}
