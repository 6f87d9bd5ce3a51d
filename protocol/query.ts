import * as v from "valibot";
import { EventFiltersSchema } from "./event-filter.ts";
import { DEFAULT_LIMITS } from "./limits.ts";

const seqParam = (name: string) =>
  v.pipe(v.string(), v.regex(/^\d{1,15}$/, `${name} must be a non-negative integer`), v.transform(Number));

const typesParam = v.pipe(
  v.string(),
  v.transform((s) =>
    s
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t.length > 0),
  ),
  v.array(v.pipe(v.string(), v.maxLength(200, "an event type is at most 200 characters")), ""),
  v.maxLength(50, "types lists at most 50 event types"),
);

/** Query of `GET /v1/topics/:topic/events`. */
export const HistoryQuerySchema = v.object({
  after: v.optional(seqParam("after"), "0"),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,6}$/, "limit must be a positive integer"),
      v.transform(Number),
      v.minValue(1, "limit must be at least 1"),
    ),
  ),
  type: v.optional(typesParam),
});
export type HistoryQuery = v.InferOutput<typeof HistoryQuerySchema>;

/** Characters of the one-topic socket's `filter` parameter (the JSON of a list of filters). */
export const FILTER_PARAM_MAX_LENGTH = 4096;

/** Query of `GET /v1/topics/:topic/ws`. */
export const SubscribeQuerySchema = v.object({
  after: v.optional(seqParam("after"), "0"),
  types: v.optional(typesParam),
  /** The JSON of a list of CloudEvents Subscriptions API filters, as the subscribe frame's `filter`. */
  filter: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(FILTER_PARAM_MAX_LENGTH, `filter is at most ${FILTER_PARAM_MAX_LENGTH} characters`),
      v.description(
        "The JSON of an array of CloudEvents Subscriptions API filters (exact, prefix, suffix, all, any, not), all of which an event must match.",
      ),
      v.parseJson(undefined, "filter must be the JSON of an array of filters"),
      EventFiltersSchema,
    ),
  ),
  epoch: v.optional(v.pipe(v.string(), v.maxLength(64))),
  token: v.optional(v.string()),
  /** `true`: several events per frame (`events` frames) where they are ready together. */
  batch: v.optional(
    v.pipe(
      v.picklist(["true", "false"], "batch must be true or false"),
      v.transform((value) => value === "true"),
    ),
  ),
});
export type SubscribeQuery = v.InferOutput<typeof SubscribeQuerySchema>;

/**
 * Query of `GET /v1/ws`, the socket that follows several topics: topics are added and removed
 * with `subscribe` / `unsubscribe` frames. `key` is where the Worker starts looking for a hub (the
 * client sends its first topic, so a topic's small audience shares a hub).
 */
export const TopicsSocketQuerySchema = v.object({
  token: v.optional(v.string()),
  batch: v.optional(
    v.pipe(
      v.picklist(["true", "false"], "batch must be true or false"),
      v.transform((value) => value === "true"),
    ),
  ),
  key: v.optional(v.pipe(v.string(), v.maxLength(200, "key is at most 200 characters"))),
});
export type TopicsSocketQuery = v.InferOutput<typeof TopicsSocketQuerySchema>;

export const HISTORY_LIMITS = {
  defaultLimit: DEFAULT_LIMITS.historyDefaultLimit,
  maxLimit: DEFAULT_LIMITS.historyMaxLimit,
};
