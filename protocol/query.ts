import * as v from "valibot";
import { EventFiltersSchema } from "./event-filter.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { lastParam, SinceSchema, type StartFields, startConflict, UntilSchema } from "./rewind.ts";

const seqParam = (name: string) =>
  v.pipe(v.string(), v.regex(/^\d{1,15}$/, `${name} must be a non-negative integer`), v.transform(Number));

/** A page size in a query: a positive integer (each route adds its own maximum). */
export const limitParam = v.pipe(
  v.string(),
  v.regex(/^\d{1,6}$/, "limit must be a positive integer"),
  v.transform(Number),
  v.minValue(1, "limit must be at least 1"),
);

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

/** A query's start fields that contradict each other are refused, naming the parameter. */
const startsOnce = <T extends StartFields>() =>
  v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const conflict = startConflict(dataset.value);
    if (conflict) addIssue({ message: conflict.message, path: [pathItem(dataset.value, conflict.field)] });
  });

/** Names the parameter an issue is about, so `invalid_query` says which one. */
function pathItem(input: object, key: string): v.IssuePathItem {
  const record = input as Record<string, unknown>;
  return { type: "object", origin: "value", input: record, key, value: record[key] };
}

/**
 * Query of `GET /v1/topics/:topic/events`. The page starts after `after` (default 0), or with the
 * `last` N events, or at the first event stored at or after `since`; `until` ends it with the last
 * event stored at or before that time.
 */
export const HistoryQuerySchema = v.pipe(
  v.object({
    after: v.optional(seqParam("after")),
    last: v.optional(lastParam(1)),
    since: v.optional(SinceSchema),
    until: v.optional(UntilSchema),
    limit: v.optional(limitParam),
    type: v.optional(typesParam),
  }),
  startsOnce(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { since, until } = dataset.value;
    if (since !== undefined && until !== undefined && Date.parse(until) < Date.parse(since)) {
      addIssue({ message: "until is before since", path: [pathItem(dataset.value, "until")] });
    }
  }),
);
export type HistoryQuery = v.InferOutput<typeof HistoryQuerySchema>;

/** Characters of the one-topic socket's `filter` parameter (the JSON of a list of filters). */
export const FILTER_PARAM_MAX_LENGTH = 4096;

/**
 * Query of `GET /v1/topics/:topic/ws`: the socket starts after `after` (default 0), or rewinds
 * (`last`, `since`; see protocol/rewind.ts), never both.
 */
export const SubscribeQuerySchema = v.pipe(
  v.object({
    after: v.optional(seqParam("after")),
    last: v.optional(lastParam(0)),
    since: v.optional(SinceSchema),
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
  }),
  startsOnce(),
);
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
