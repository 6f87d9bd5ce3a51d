import type { Handler } from "hono";
import { HISTORY_LIMITS, HistoryQuerySchema } from "../../protocol/query.ts";
import { historyPageText } from "../../protocol/responses.ts";
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

/** `GET /v1/topics/:topic/events`: a history page. */
export const topicHistory: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  const query = parseQuery(HistoryQuerySchema, c.req.url);
  const limit = query.limit ?? HISTORY_LIMITS.defaultLimit;
  if (limit > HISTORY_LIMITS.maxLimit) {
    throw new MeshError("invalid_query", `limit is at most ${HISTORY_LIMITS.maxLimit}`, {
      param: "limit",
      limit: HISTORY_LIMITS.maxLimit,
    });
  }
  const result = await topicStub(c.env, topic).history(topic, query.after, limit, query.type);
  if (!result.ok) {
    const message =
      result.code === "cursor_expired"
        ? `events after ${query.after} are no longer retained; the oldest retained seq is ${result.oldest}: read from after=${result.oldest - 1}`
        : `after=${query.after} is beyond the head of the topic (${result.head})`;
    throw new MeshError(result.code, message, { oldest: result.oldest, head: result.head });
  }
  return c.body(historyPageText({ topic, ...result }), 200, { "content-type": "application/json; charset=utf-8" });
};
