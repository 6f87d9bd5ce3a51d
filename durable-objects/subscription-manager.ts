import type { DeadLetter } from "../protocol/dead-letters.ts";
import type { MeshEvent } from "../protocol/mesh-event.ts";
import {
  DEFAULT_SECRET_GRACE_SECONDS,
  type RotateSecretRequest,
  type SeekTarget,
  type SubscriptionConfig,
  type SubscriptionView,
  subscriptionDeadLetterId,
} from "../protocol/subscriptions.ts";
import { cursorFor } from "./delivery-planner.ts";
import type { LogStore } from "./log-store.ts";
import type { DeadLetterPageRequest, DeadLetterRow } from "./subscription-dead-letters.ts";
import type { SubscriptionRow, SubscriptionStore } from "./subscription-store.ts";
import { generateWebhookSecret } from "./webhook-sender.ts";

export type SubscriptionNotFound = { ok: false; code: "subscription_not_found"; message: string };
export type CursorRefused = {
  ok: false;
  code: "cursor_ahead" | "cursor_expired";
  message: string;
  oldest: number;
  head: number;
};

export type PutSubscriptionResult =
  | { ok: true; created: boolean; subscription: SubscriptionView; secret: string | null }
  | CursorRefused;
export type SubscriptionResult = { ok: true; subscription: SubscriptionView } | SubscriptionNotFound;
export type SeekResult = SubscriptionResult | CursorRefused;
export type RotateSecretResult =
  | { ok: true; subscription: SubscriptionView; secret: string | null }
  | SubscriptionNotFound
  | { ok: false; code: "invalid_body"; message: string };
export type DeleteSubscriptionResult = { ok: true } | SubscriptionNotFound;
export type DeadLettersResult = { ok: true; deadLetters: DeadLetter[] } | SubscriptionNotFound;
export type DeadLetterNotFound = { ok: false; code: "dead_letter_not_found"; message: string; missing: number[] };
export type RedriveResult = { ok: true; redriven: number[] } | SubscriptionNotFound | DeadLetterNotFound;
export type DeleteDeadLettersResult = { ok: true; deleted: number[] } | SubscriptionNotFound | DeadLetterNotFound;

/** Gaps a subscription's view lists (its count covers all of them). */
const GAPS_SHOWN = 20;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function notFound(topic: string, name: string): SubscriptionNotFound {
  return { ok: false, code: "subscription_not_found", message: `topic ${topic} has no subscription named ${name}` };
}

/**
 * The subscription operations a user asks for (create, read, pause, seek, dead letters), as result
 * unions for the Durable Object's RPC methods. Delivery itself is the dispatcher's.
 */
export class SubscriptionManager {
  constructor(
    private readonly store: SubscriptionStore,
    private readonly log: LogStore,
  ) {}

  /**
   * Creates (starting at `config.start`) or updates (keeping the cursor) a subscription. An update
   * that changes a webhook's secret rotates it: the old one keeps signing for the default grace.
   */
  put(topic: string, name: string, config: SubscriptionConfig, now: number): PutSubscriptionResult {
    const existing = this.store.get(name);
    const { stored, generated } = withSecret(config, existing);
    if (existing) {
      this.store.replaceConfig(name, stored, now);
      const before = webhookSecret(existing.config);
      const after = webhookSecret(stored);
      if (before !== null && after !== null && before !== after) {
        this.store.rotateSecret(name, stored, before, now + DEFAULT_SECRET_GRACE_SECONDS * 1000, now);
      }
    } else {
      const start = cursorFor(typeof config.start === "string" ? config.start : config.start.seq, this.log.position());
      if (!start.ok) return start;
      this.store.create(name, stored, start.cursor, now);
    }
    return { ok: true, created: existing === null, subscription: this.view(topic, name), secret: generated };
  }

  get(topic: string, name: string): SubscriptionResult {
    return this.store.get(name) ? { ok: true, subscription: this.view(topic, name) } : notFound(topic, name);
  }

  list(topic: string): { ok: true; subscriptions: SubscriptionView[] } {
    return { ok: true, subscriptions: this.store.list().map((row) => this.toView(topic, row)) };
  }

  delete(topic: string, name: string): DeleteSubscriptionResult {
    return this.store.delete(name) ? { ok: true } : notFound(topic, name);
  }

  /** A webhook's new secret (generated when not given), the old one signing beside it for the grace. */
  rotateSecret(topic: string, name: string, request: RotateSecretRequest, now: number): RotateSecretResult {
    const row = this.store.get(name);
    if (!row) return notFound(topic, name);
    const { target } = row.config;
    if (target.type !== "webhook") {
      return { ok: false, code: "invalid_body", message: `subscription ${name} delivers to a queue: it has no secret` };
    }
    const secret = request.secret ?? generateWebhookSecret();
    if (secret === target.secret) {
      return { ok: false, code: "invalid_body", message: "the new secret must differ from the current one" };
    }
    const config = { ...row.config, target: { ...target, secret } };
    this.store.rotateSecret(name, config, target.secret as string, now + request.graceSeconds * 1000, now);
    return { ok: true, subscription: this.view(topic, name), secret: request.secret === undefined ? secret : null };
  }

  /** Stops delivery; an already paused subscription is left as it is (and keeps its reason). */
  pause(topic: string, name: string, now: number): SubscriptionResult {
    const row = this.store.get(name);
    if (!row) return notFound(topic, name);
    if (row.state === "active") this.store.pause(name, now);
    return { ok: true, subscription: this.view(topic, name) };
  }

  /**
   * Delivery goes on from the cursor (past the gap it stopped at, if any: resuming accepts it); an
   * active subscription is left as it is.
   */
  resume(topic: string, name: string, now: number): SubscriptionResult {
    const row = this.store.get(name);
    if (!row) return notFound(topic, name);
    if (row.state === "paused") this.store.resume(name, now, this.log.position().oldest - 1);
    return { ok: true, subscription: this.view(topic, name) };
  }

  /** Moves the cursor so that the next event delivered is `to` (a replay when it moves back). */
  seek(topic: string, name: string, to: SeekTarget, now: number): SeekResult {
    if (!this.store.get(name)) return notFound(topic, name);
    const target = cursorFor(to, this.log.position());
    if (!target.ok) return target;
    this.store.seek(name, target.cursor, now);
    return { ok: true, subscription: this.view(topic, name) };
  }

  /** A page of dead letters of one subscription, or of every subscription of the topic. */
  deadLetters(topic: string, request: DeadLetterPageRequest): DeadLettersResult {
    const { subscription } = request;
    if (subscription !== undefined && !this.store.get(subscription)) return notFound(topic, subscription);
    return { ok: true, deadLetters: this.store.deadLetters.page(request).map((row) => toDeadLetter(topic, row)) };
  }

  /** Of `seqs`, those that are not dead letters of the subscription (all of them when it does not exist). */
  missingDeadLetters(subscription: string, seqs: number[]): number[] {
    return this.store.deadLetters.missing(subscription, seqs);
  }

  /** Queues dead letters (all, or `seqs`) to be delivered again, in seq order, by the alarm. */
  redrive(topic: string, subscription: string, seqs: number[] | undefined, now: number): RedriveResult {
    const refused = this.checkDeadLetters(topic, subscription, seqs);
    if (refused) return refused;
    return { ok: true, redriven: this.store.deadLetters.requestRedrive(subscription, seqs, now) };
  }

  deleteDeadLetters(topic: string, subscription: string, seqs: number[]): DeleteDeadLettersResult {
    const refused = this.checkDeadLetters(topic, subscription, seqs);
    if (refused) return refused;
    return { ok: true, deleted: this.store.deadLetters.delete(subscription, seqs) };
  }

  /** Refuses the whole request when the subscription or any named dead letter does not exist. */
  private checkDeadLetters(
    topic: string,
    subscription: string,
    seqs: number[] | undefined,
  ): SubscriptionNotFound | DeadLetterNotFound | null {
    if (!this.store.get(subscription)) return notFound(topic, subscription);
    if (seqs === undefined) return null;
    const missing = this.store.deadLetters.missing(subscription, seqs);
    if (missing.length === 0) return null;
    return {
      ok: false,
      code: "dead_letter_not_found",
      message: `subscription ${subscription} has no dead letter for seq ${missing.join(", ")}`,
      missing,
    };
  }

  private view(topic: string, name: string): SubscriptionView {
    return this.toView(topic, this.store.get(name) as SubscriptionRow);
  }

  private toView(topic: string, row: SubscriptionRow): SubscriptionView {
    return toView(
      topic,
      row,
      this.log.head,
      this.store.deadLetters.count(row.name),
      this.store.gaps(row.name, GAPS_SHOWN),
      this.store.deliveries.counts(row.name),
    );
  }
}

/**
 * A webhook keeps its secret across updates that do not name one; a new webhook without one gets a
 * generated secret, which the PUT answer shows this one time.
 */
function withSecret(
  config: SubscriptionConfig,
  existing: SubscriptionRow | null,
): { stored: SubscriptionConfig; generated: string | null } {
  if (config.target.type !== "webhook" || config.target.secret !== undefined)
    return { stored: config, generated: null };
  const previous = existing?.config.target;
  const kept = previous?.type === "webhook" ? previous.secret : undefined;
  const generated = kept === undefined ? generateWebhookSecret() : null;
  return { stored: { ...config, target: { ...config.target, secret: kept ?? generated ?? undefined } }, generated };
}

function webhookSecret(config: SubscriptionConfig): string | null {
  return config.target.type === "webhook" ? (config.target.secret ?? null) : null;
}

function toView(
  topic: string,
  row: SubscriptionRow,
  head: number,
  deadLetters: number,
  gaps: { count: number; latest: { from: number; to: number; at: number }[] },
  unordered: { inFlight: number; retrying: number; attempts: number },
): SubscriptionView {
  const { target, types, filters, retry, onExhausted, onGap, batchSize, delivery } = row.config;
  // Strict order has one delivery at most: claimed (in flight) until it fails, then retrying.
  const strict = {
    inFlight: row.batchEnd !== null && row.attempts === 0 ? 1 : 0,
    retrying: row.attempts > 0 ? 1 : 0,
    attempts: row.attempts,
  };
  const outstanding = delivery.ordering === "unordered" ? unordered : strict;
  return {
    topic,
    name: row.name,
    state: row.state,
    pausedReason: row.pausedReason,
    target:
      target.type === "webhook"
        ? { type: "webhook", url: target.url, timeoutMs: target.timeoutMs }
        : { type: "queue", queue: target.queue },
    types: types ?? null,
    filters: filters && filters.length > 0 ? filters : null,
    retry,
    onExhausted,
    // Subscriptions stored before gaps had a policy pause at one: the safe default.
    onGap: onGap ?? "pause",
    batchSize,
    delivery,
    cursor: row.cursor,
    head,
    lag: Math.max(0, head - row.cursor),
    attempts: outstanding.attempts,
    inFlight: outstanding.inFlight,
    retrying: outstanding.retrying,
    nextAttemptAt: iso(row.nextAttemptAt),
    lastError: row.lastError,
    lastErrorAt: iso(row.lastErrorAt),
    lastDeliveredAt: iso(row.lastDeliveredAt),
    previousSecretValidUntil: row.retiringSecret === null ? null : iso(row.retiringUntil),
    delivered: row.delivered,
    deadLetters,
    gapCount: gaps.count,
    gaps: gaps.latest.map((g) => ({ from: g.from, to: g.to, at: iso(g.at) as string, reason: "retention" })),
    createdAt: iso(row.createdAt) as string,
    updatedAt: iso(row.updatedAt) as string,
  };
}

function toDeadLetter(topic: string, row: DeadLetterRow): DeadLetter {
  return {
    id: subscriptionDeadLetterId(topic, row.subscription, row.seq),
    kind: "subscription",
    topic,
    seq: row.seq,
    subscription: row.subscription,
    consumer: null,
    attempts: row.attempts,
    firstFailureAt: iso(row.firstFailureAt) as string,
    lastFailureAt: iso(row.lastFailureAt) as string,
    lastError: row.lastError,
    event: JSON.parse(row.event) as MeshEvent,
  };
}
