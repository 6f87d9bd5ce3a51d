import type { Handler } from "hono";
import { topicDirectory } from "../../durable-objects/topic-directory.ts";
import type { TopicList } from "../../protocol/responses.ts";
import type { AppEnv } from "../app-env.ts";
import { allows } from "../auth/access.ts";
import { topicStub } from "../topic-param.ts";

/** `GET /v1/topics`: every topic with where its log stands. */
export const listTopics: Handler<AppEnv> = async (c) => {
  const principal = c.get("principal");
  // A key that administers some topics lists only those.
  const names = (await topicDirectory(c.env).list()).filter((name) => allows(principal, "admin", name));
  const topics = await Promise.all(names.map((name) => topicStub(c.env, name).info(name)));
  const body: TopicList = { topics };
  return c.json(body);
};
