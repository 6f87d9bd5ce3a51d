import type { Handler } from "hono";
import { topicDirectory } from "../../durable-objects/topic-directory.ts";
import type { TopicList } from "../../protocol/responses.ts";
import type { AppEnv } from "../app-env.ts";
import { topicStub } from "../topic-param.ts";

/** `GET /v1/topics`: every topic with where its log stands. */
export const listTopics: Handler<AppEnv> = async (c) => {
  const names = await topicDirectory(c.env).list();
  const topics = await Promise.all(names.map((name) => topicStub(c.env, name).info(name)));
  const body: TopicList = { topics };
  return c.json(body);
};
