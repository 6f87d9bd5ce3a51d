import type { Handler } from "hono";
import { HISTORY_LIMITS, type HistoryQuery, HistoryQuerySchema } from "../../protocol/query.ts";
import { historyPageParts } from "../../protocol/responses.ts";
import { rewindOf } from "../../protocol/rewind.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";
import { checkTopic, topicStub } from "../topic-param.ts";
import { parseQuery } from "../validate.ts";

/** `GET /v1/topics/:topic`: where the log stands. */
export const topicInfo: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  return c.json(await topicStub(c.env, topic).info(topic));
};

/** `GET /v1/topics/:topic/stats`: the topic's counters. */
export const topicStats: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  return c.json(await topicStub(c.env, topic).stats(topic));
};

/**
 * `GET /v1/topics/:topic/events`: a history page, after a cursor or from a rewind (`last`, `since`),
 * up to `until` when given. A `last` read's page holds all N events unless `limit` is smaller.
 */
export const topicHistory: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  const query = parseQuery(HistoryQuerySchema, c.req.url);
  const limit = query.limit ?? query.last ?? HISTORY_LIMITS.defaultLimit;
  if (limit > HISTORY_LIMITS.maxLimit) {
    throw new MeshError("invalid_query", `limit is at most ${HISTORY_LIMITS.maxLimit}`, {
      param: "limit",
      limit: HISTORY_LIMITS.maxLimit,
    });
  }
  const after = query.after ?? 0;
  const range = {
    rewind: rewindOf(query) ?? undefined,
    until: query.until === undefined ? undefined : Date.parse(query.until),
  };
  const result = await topicStub(c.env, topic).history(topic, after, limit, query.type, range);
  if (!result.ok) {
    const message =
      result.code === "cursor_expired"
        ? `${expired(query)}; the oldest retained seq is ${result.oldest}: read from after=${result.oldest - 1}`
        : `after=${after} is beyond the head of the topic (${result.head})`;
    throw new MeshError(result.code, message, { oldest: result.oldest, head: result.head });
  }
  // The events arrive as the log's UTF-8 and go out as they are.
  const { events, ...position } = result;
  return new Response(new Blob(historyPageParts({ topic, ...position }, events)), {
    headers: { "content-type": "application/json; charset=utf-8" },
  });
};

/** What is no longer retained, in the terms the reader asked in. */
function expired(query: HistoryQuery): string {
  if (query.last !== undefined) return `the last ${query.last} events are no longer all retained`;
  if (query.since !== undefined) return `events stored at or after ${query.since} are no longer all retained`;
  return `events after ${query.after ?? 0} are no longer retained`;
}
