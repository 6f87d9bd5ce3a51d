import type { Handler } from "hono";
import { SubscribeQuerySchema } from "../../protocol/query.ts";
import type { AppEnv } from "../app-env.ts";
import { handOffSocket } from "../socket-handoff.ts";
import { checkTopic } from "../topic-param.ts";
import { parseQuery } from "../validate.ts";

/**
 * `GET /v1/topics/:topic/ws?after=&types=&filter=&epoch=&batch=`: handed to a hub that holds it pinned to
 * the topic (it takes no subscribe frames). The topic is the routing key, so a topic's audience
 * fills its first hubs before it spreads.
 */
export const openLiveSocket: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  parseQuery(SubscribeQuerySchema, c.req.url);
  return handOffSocket(c, topic, topic);
};
