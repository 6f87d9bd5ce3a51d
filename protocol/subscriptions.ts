import * as v from "valibot";
import { EventFilterListSchema, EventFiltersSchema } from "./event-filter.ts";
import { SeqSchema, StoredEventSchema } from "./mesh-event.ts";

/**
 * Durable subscriptions: a named cursor on a topic that delivers every event, in order and at
 * least once, to a webhook or a Cloudflare Queue. The PUT body, the seek body and the view that
 * GET returns are declared here once; the Worker checks input with them and clients read with them.
 */

/**
 * Subscription names: 1–64 characters from `A–Z a–z 0–9 . _ -`, starting with a letter or digit.
 * No `:`, so a dead-letter id `sub:<topic>:<subscription>:<seq>` reads back from the right.
 */
export const SUBSCRIPTION_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const SUBSCRIPTION_NAME_RULE = "1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit";

export function isValidSubscriptionName(name: string): boolean {
  return SUBSCRIPTION_NAME_PATTERN.test(name);
}

export const SubscriptionNameSchema = v.pipe(v.string(), v.regex(SUBSCRIPTION_NAME_PATTERN, SUBSCRIPTION_NAME_RULE));

/** Standard Webhooks secrets: `whsec_` and the base64 of 24 to 64 random bytes. */
const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

export function isWebhookSecret(secret: string): boolean {
  if (!WEBHOOK_SECRET_PATTERN.test(secret)) return false;
  const encoded = secret.slice("whsec_".length);
  if (encoded.length % 4 !== 0) return false;
  const bytes = (encoded.length / 4) * 3 - (encoded.length - encoded.replace(/=+$/, "").length);
  return bytes >= 24 && bytes <= 64;
}

/** Defaults of the retry policy: about ten minutes of retries before an event is given up. */
export const DEFAULT_RETRY = { maxAttempts: 10, firstDelayMs: 1_000, maxDelayMs: 300_000 } as const;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const MAX_BATCH_SIZE = 100;
/** Deliveries an unordered subscription has in flight at once, by default and at most. */
export const DEFAULT_MAX_IN_FLIGHT = 8;
export const MAX_IN_FLIGHT = 32;

const int = (name: string, min: number, max: number) =>
  v.pipe(
    v.number(`${name} must be a number`),
    v.integer(`${name} must be an integer`),
    v.minValue(min, `${name} must be at least ${min}`),
    v.maxValue(max, `${name} must be at most ${max}`),
  );

const WebhookSecretSchema = v.pipe(
  v.string("secret must be a string"),
  v.check(isWebhookSecret, "secret must be whsec_ followed by the base64 of 24 to 64 bytes"),
);

export const WebhookTargetSchema = v.strictObject({
  type: v.literal("webhook"),
  /** Only the scheme is checked here; which hosts are allowed is the Worker's policy. */
  url: v.pipe(
    v.string("url must be a string"),
    v.maxLength(2048, "url is at most 2048 characters"),
    v.url("url must be an absolute URL"),
  ),
  secret: v.optional(WebhookSecretSchema),
  timeoutMs: v.optional(int("timeoutMs", 100, 30_000), DEFAULT_WEBHOOK_TIMEOUT_MS),
});

export const QueueTargetSchema = v.strictObject({
  type: v.literal("queue"),
  /** The name of a Queue producer binding of the Worker, e.g. `DELIVERY_QUEUE`. */
  queue: v.pipe(
    v.string("queue must be a string"),
    v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "queue must be the name of a Queue binding, e.g. DELIVERY_QUEUE"),
  ),
});

export const TargetSchema = v.variant(
  "type",
  [WebhookTargetSchema, QueueTargetSchema],
  'target.type must be "webhook" or "queue"',
);

export const RetryPolicySchema = v.pipe(
  v.strictObject({
    maxAttempts: v.optional(int("maxAttempts", 1, 100), DEFAULT_RETRY.maxAttempts),
    firstDelayMs: v.optional(int("firstDelayMs", 1, 3_600_000), DEFAULT_RETRY.firstDelayMs),
    maxDelayMs: v.optional(int("maxDelayMs", 1, 86_400_000), DEFAULT_RETRY.maxDelayMs),
  }),
  v.check((r) => r.firstDelayMs <= r.maxDelayMs, "retry.firstDelayMs must not exceed retry.maxDelayMs"),
);

const seqSchema = (name: string) => int(name, 1, Number.MAX_SAFE_INTEGER);

/**
 * How deliveries are ordered. `strict` (the default): one delivery at a time, in seq order; a
 * failing event holds back the ones after it. `unordered`: up to `maxInFlight` deliveries at once,
 * each retried on its own schedule while later events go on.
 */
export const DeliveryModeSchema = v.variant(
  "ordering",
  [
    v.strictObject({ ordering: v.literal("strict") }),
    v.strictObject({
      ordering: v.literal("unordered"),
      maxInFlight: v.optional(int("maxInFlight", 1, MAX_IN_FLIGHT), DEFAULT_MAX_IN_FLIGHT),
    }),
  ],
  'delivery.ordering must be "strict" or "unordered"',
);

/**
 * Where delivery starts: `earliest` (the oldest retained event), `latest` (only events published
 * from now on) or `{ seq }` (the first event delivered is `seq`).
 */
export const StartSchema = v.union(
  [v.picklist(["earliest", "latest"]), v.strictObject({ seq: seqSchema("start.seq") })],
  'start must be "earliest", "latest" or { "seq": <n> }',
);

/** Body of `PUT /v1/topics/:topic/subscriptions/:name`. */
export const SubscriptionConfigSchema = v.strictObject({
  target: TargetSchema,
  /** Only events of these types are delivered; the cursor still moves past the others. */
  types: v.optional(
    v.pipe(
      v.array(
        v.pipe(v.string("types must hold strings"), v.nonEmpty("an event type must not be empty"), v.maxLength(200)),
        "types must be an array of event types",
      ),
      v.nonEmpty("types must list at least one event type (omit it to receive every type)"),
      v.maxLength(50, "types lists at most 50 event types"),
    ),
  ),
  /**
   * CloudEvents Subscriptions API filters (exact, prefix, suffix, all, any, not), all of which an
   * event must match, besides `types`; the cursor still moves past the others.
   */
  filters: v.optional(EventFiltersSchema),
  /** Applies when the subscription is created; an update keeps the cursor. */
  start: v.optional(StartSchema, "latest"),
  retry: v.optional(RetryPolicySchema, {}),
  /** After the last attempt: record a dead letter and move on, or pause on the event. */
  onExhausted: v.optional(
    v.picklist(["dead-letter", "pause"], 'onExhausted must be "dead-letter" or "pause"'),
    "dead-letter",
  ),
  /** Events per delivery (one webhook request, one queue sendBatch), in seq order. */
  batchSize: v.optional(int("batchSize", 1, MAX_BATCH_SIZE), 1),
  /**
   * When retention removed events the subscription had not passed: record the gap and pause until
   * an operator resumes or seeks (nothing is skipped without a decision), or record it and go on.
   */
  onGap: v.optional(v.picklist(["pause", "continue"], 'onGap must be "pause" or "continue"'), "pause"),
  delivery: v.optional(DeliveryModeSchema, { ordering: "strict" }),
});

export type WebhookTarget = v.InferOutput<typeof WebhookTargetSchema>;
export type QueueTarget = v.InferOutput<typeof QueueTargetSchema>;
export type Target = v.InferOutput<typeof TargetSchema>;
export type RetryPolicy = v.InferOutput<typeof RetryPolicySchema>;
export type DeliveryMode = v.InferOutput<typeof DeliveryModeSchema>;
export type StartPosition = v.InferOutput<typeof StartSchema>;
export type SubscriptionConfigInput = v.InferInput<typeof SubscriptionConfigSchema>;
export type SubscriptionConfig = v.InferOutput<typeof SubscriptionConfigSchema>;

/** Body of `POST …/subscriptions/:name/seek`: the next event delivered is `to`. */
export const SeekSchema = v.strictObject({
  to: v.union([v.picklist(["earliest", "latest"]), seqSchema("to")], 'to must be a seq, "earliest" or "latest"'),
});
export type SeekTarget = v.InferOutput<typeof SeekSchema>["to"];

/** How long a rotated-out webhook secret keeps signing beside the new one, by default. */
export const DEFAULT_SECRET_GRACE_SECONDS = 24 * 60 * 60;

/**
 * Body of `POST …/subscriptions/:name/rotate-secret`: the new secret (generated when absent) and
 * how long the old one keeps signing beside it (0: not at all).
 */
export const RotateSecretSchema = v.strictObject({
  secret: v.optional(WebhookSecretSchema),
  graceSeconds: v.optional(int("graceSeconds", 0, 7 * 24 * 60 * 60), DEFAULT_SECRET_GRACE_SECONDS),
});
export type RotateSecretRequest = v.InferOutput<typeof RotateSecretSchema>;

/** Body of `POST …/subscriptions/:name/dead-letters/redrive`; without `seqs`, every dead letter. */
export const RedriveSchema = v.strictObject({
  seqs: v.optional(
    v.pipe(
      v.array(seqSchema("seqs[]"), "seqs must be an array of seqs"),
      v.nonEmpty("seqs must not be empty (omit it to redrive every dead letter)"),
      v.maxLength(1000, "seqs lists at most 1000 seqs"),
    ),
  ),
});

/** A target as shown back: a webhook's secret is never shown again. */
export const TargetViewSchema = v.variant("type", [
  v.object({ type: v.literal("webhook"), url: v.string(), timeoutMs: v.number() }),
  QueueTargetSchema,
]);

/** Events a subscription never got because retention removed them first: `from`..`to`, both included. */
export const SubscriptionGapSchema = v.object({
  from: v.number(),
  to: v.number(),
  at: v.string(),
  reason: v.picklist(["retention"]),
});
export type SubscriptionGap = v.InferOutput<typeof SubscriptionGapSchema>;

/** One subscription as `GET` shows it: its config and where its delivery stands. */
export const SubscriptionViewSchema = v.object({
  topic: v.string(),
  name: v.string(),
  state: v.picklist(["active", "paused"]),
  /**
   * Why it is paused: by request, because an event ran out of attempts (`onExhausted: "pause"`), or
   * at a gap (`onGap: "pause"`).
   */
  pausedReason: v.nullable(v.picklist(["manual", "exhausted", "gap"])),
  target: TargetViewSchema,
  types: v.nullable(v.array(v.string())),
  filters: v.nullable(EventFilterListSchema),
  retry: v.object({ maxAttempts: v.number(), firstDelayMs: v.number(), maxDelayMs: v.number() }),
  onExhausted: v.picklist(["dead-letter", "pause"]),
  onGap: v.picklist(["pause", "continue"]),
  batchSize: v.number(),
  delivery: v.variant("ordering", [
    v.object({ ordering: v.literal("strict") }),
    v.object({ ordering: v.literal("unordered"), maxInFlight: v.number() }),
  ]),
  /**
   * Every seq up to here is passed (delivered, dead-lettered or skipped by the filter); 0 before the
   * first. Unordered: the seq before the lowest one not yet done (later ones may be done already).
   */
  cursor: v.number(),
  head: v.number(),
  /** `head - cursor`: events not yet past the cursor, filtered ones included. */
  lag: v.number(),
  /** Failed attempts of the delivery now being retried (unordered: the most of any); 0 when none is failing. */
  attempts: v.number(),
  /** Deliveries sent and not answered yet (strict: 0 or 1). */
  inFlight: v.number(),
  /** Deliveries that failed and wait for their next attempt (strict: 0 or 1). */
  retrying: v.number(),
  nextAttemptAt: v.nullable(v.string()),
  lastError: v.nullable(v.string()),
  lastErrorAt: v.nullable(v.string()),
  lastDeliveredAt: v.nullable(v.string()),
  /** Until when a webhook's previous secret still signs beside the current one (after a rotation). */
  previousSecretValidUntil: v.nullable(v.string()),
  /** Events delivered successfully since the subscription was created. */
  delivered: v.number(),
  deadLetters: v.number(),
  /** Gaps met since the subscription was created, and the latest ones (newest first, at most 20). */
  gapCount: v.number(),
  gaps: v.array(SubscriptionGapSchema),
  createdAt: v.string(),
  updatedAt: v.string(),
});
export type SubscriptionView = v.InferOutput<typeof SubscriptionViewSchema>;

/** Answer of a PUT: the view, plus the webhook secret when the mesh generated it (shown this once). */
export const PutSubscriptionResponseSchema = v.object({
  ...SubscriptionViewSchema.entries,
  created: v.boolean(),
  secret: v.optional(v.string()),
});
export type PutSubscriptionResponse = v.InferOutput<typeof PutSubscriptionResponseSchema>;

/** Answer of a rotation: the view, plus the new secret when the mesh generated it (shown this once). */
export const RotateSecretResponseSchema = v.object({
  ...SubscriptionViewSchema.entries,
  secret: v.optional(v.string()),
});
export type RotateSecretResponse = v.InferOutput<typeof RotateSecretResponseSchema>;

/** `GET /v1/topics/:topic/subscriptions`: the topic's subscriptions, by name. */
export const SubscriptionListSchema = v.object({ topic: v.string(), subscriptions: v.array(SubscriptionViewSchema) });
export type SubscriptionList = v.InferOutput<typeof SubscriptionListSchema>;

/** Answer of `POST …/subscriptions/:name/dead-letters/redrive`: the seqs queued for delivery again. */
export const SubscriptionRedriveResponseSchema = v.object({ redriven: v.array(SeqSchema) });
export type SubscriptionRedriveResponse = v.InferOutput<typeof SubscriptionRedriveResponseSchema>;

/**
 * The JSON body of one webhook delivery: the topic, the subscription and the events in seq order,
 * each the stored CloudEvent with its `seq`.
 */
export const WebhookPayloadSchema = v.object({
  topic: v.string(),
  subscription: v.string(),
  events: v.pipe(v.array(StoredEventSchema), v.minLength(1)),
});
export type WebhookPayload = v.InferOutput<typeof WebhookPayloadSchema>;

/**
 * The text of a webhook body (`WebhookPayloadSchema`), built by concatenation of the stored
 * events' JSON as the log keeps it: a batch of up to 100 events is sent without parsing any of them.
 */
export function webhookBodyText(topic: string, subscription: string, storedEventsJson: readonly string[]): string {
  return `{"topic":${JSON.stringify(topic)},"subscription":${JSON.stringify(subscription)},"events":[${storedEventsJson.join(",")}]}`;
}

/** The stable id of a subscription's dead letter, as the dead-letter API shows it. */
export function subscriptionDeadLetterId(topic: string, subscription: string, seq: number): string {
  return `sub:${topic}:${subscription}:${seq}`;
}
