import * as v from "valibot";
import { CONSUMER_NAME_RULE, isValidConsumerName } from "./consumer-name.ts";
import { DeadLetterSchema } from "./dead-letters.ts";
import { limitParam } from "./query.ts";
import { isValidSubscriptionName, SUBSCRIPTION_NAME_RULE } from "./subscriptions.ts";
import { isValidTopicName, TOPIC_NAME_RULE } from "./topic-name.ts";

export const DEAD_LETTER_LIST_LIMITS = { defaultLimit: 100, maxLimit: 1000 } as const;
/** A redrive names at most this many dead letters. */
export const MAX_REDRIVE_IDS = 100;

/** Paging of both dead-letter listings: a page of `limit`, after the `cursor` the previous page gave. */
const PAGE_QUERY = {
  limit: v.optional(
    v.pipe(
      limitParam,
      v.maxValue(DEAD_LETTER_LIST_LIMITS.maxLimit, `limit is at most ${DEAD_LETTER_LIST_LIMITS.maxLimit}`),
    ),
  ),
  cursor: v.optional(
    v.pipe(v.string(), v.description("next of the previous page, unchanged; without it, the first page.")),
  ),
};

/** Query of `GET /v1/dead-letters`: every filter is optional, and they combine. */
export const DeadLetterListQuerySchema = v.pipe(
  v.object({
    topic: v.optional(v.pipe(v.string(), v.check(isValidTopicName, TOPIC_NAME_RULE))),
    subscription: v.optional(v.pipe(v.string(), v.check(isValidSubscriptionName, SUBSCRIPTION_NAME_RULE))),
    consumer: v.optional(v.pipe(v.string(), v.check(isValidConsumerName, CONSUMER_NAME_RULE))),
    kind: v.optional(v.picklist(["subscription", "queue"], 'kind must be "subscription" or "queue"')),
    ...PAGE_QUERY,
  }),
  // A subscription filter selects subscription dead letters and a consumer filter queue ones.
  v.check(
    (q) => !(q.subscription !== undefined && (q.consumer !== undefined || q.kind === "queue")),
    "subscription selects subscription dead letters: it cannot be combined with consumer or kind=queue",
  ),
  v.check(
    (q) => !(q.consumer !== undefined && q.kind === "subscription"),
    "consumer selects queue dead letters: it cannot be combined with kind=subscription",
  ),
);
export type DeadLetterListQuery = v.InferOutput<typeof DeadLetterListQuerySchema>;

/** Query of `GET …/subscriptions/:name/dead-letters`. */
export const SubscriptionDeadLetterQuerySchema = v.object(PAGE_QUERY);

/** Body of `POST /v1/dead-letters/redrive`. */
export const RedriveBodySchema = v.object({
  ids: v.pipe(
    v.array(v.string("ids must be strings"), "ids must be an array of dead-letter ids"),
    v.minLength(1, "ids names at least one dead letter"),
    v.maxLength(MAX_REDRIVE_IDS, `ids names at most ${MAX_REDRIVE_IDS} dead letters`),
  ),
});

/** A page of a dead-letter listing, and where the next one starts. */
const PAGE_FIELDS = {
  more: v.pipe(v.boolean(), v.description("True when the listing goes on: next is set.")),
  next: v.pipe(
    v.nullable(v.string()),
    v.description("Pass it as cursor to read the next page; null on the last page. Opaque: do not build one."),
  ),
};

/**
 * `GET /v1/dead-letters`: every subscription dead letter (topics in name order, then subscription,
 * then seq), then every queue dead letter in the order they were recorded.
 */
export const DeadLetterListSchema = v.object({ deadLetters: v.array(DeadLetterSchema), ...PAGE_FIELDS });
export type DeadLetterList = v.InferOutput<typeof DeadLetterListSchema>;

/** `GET …/subscriptions/:name/dead-letters`: the subscription's dead letters in seq order. */
export const SubscriptionDeadLetterListSchema = v.object({ deadLetters: v.array(DeadLetterSchema), ...PAGE_FIELDS });
export type SubscriptionDeadLetterList = v.InferOutput<typeof SubscriptionDeadLetterListSchema>;

/** Answer of a redrive by id: the dead letters sent again to where they failed. */
export const RedriveResponseSchema = v.object({ redriven: v.array(v.string()) });
export type RedriveResponse = v.InferOutput<typeof RedriveResponseSchema>;
