import type { Handler } from "hono";
import { PRESENCE_PAGE_DEFAULT, PresenceQuerySchema } from "../../protocol/presence.ts";
import type { AppEnv } from "../app-env.ts";
import { checkTopic } from "../topic-param.ts";
import { parseQuery } from "../validate.ts";

/**
 * `GET /v1/topics/:topic/presence`: the topic's occupancy and a page of its members in member
 * order, from its presence object. Each member's data is kept as JSON text there and spliced in
 * as it is, so a page of large rooms costs no parse.
 */
export const topicPresence: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  const query = parseQuery(PresenceQuerySchema, c.req.url);
  const stub = c.env.TOPIC_PRESENCE.get(c.env.TOPIC_PRESENCE.idFromName(topic));
  const page = await stub.members(topic, query.cursor ?? "", query.limit ?? PRESENCE_PAGE_DEFAULT);
  const members = page.members.map((m) => `{"member":${JSON.stringify(m.member)},"data":${m.data}}`).join(",");
  const { occupancy } = page;
  const body = `{"topic":${JSON.stringify(topic)},"occupancy":{"members":${occupancy.members},"connections":${occupancy.connections}},"members":[${members}],"next":${JSON.stringify(page.next)}}`;
  return c.body(body, 200, { "content-type": "application/json; charset=utf-8" });
};
