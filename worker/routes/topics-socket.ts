import type { Handler } from "hono";
import { TopicsSocketQuerySchema } from "../../protocol/query.ts";
import type { AppEnv } from "../app-env.ts";
import { randomKey } from "../hub-choice.ts";
import { handOffSocket } from "../socket-handoff.ts";
import { parseQuery } from "../validate.ts";

/**
 * `GET /v1/ws?token=&batch=&key=`: one socket that follows many topics, subscribed and unsubscribed
 * with frames on it, handed to a hub picked by the routing key (`key`, else a random one).
 */
export const openTopicsSocket: Handler<AppEnv> = async (c) => {
  const query = parseQuery(TopicsSocketQuerySchema, c.req.url);
  return handOffSocket(c, query.key ?? randomKey(), null);
};
