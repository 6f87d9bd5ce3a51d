import type { Hono } from "hono";
import { topicDirectory } from "../../durable-objects/topic-directory.ts";
import type { AppEnv } from "../env.ts";
import { topicStub } from "../topic-param.ts";

/** `GET /v1/topics`: every topic with where its log stands. */
export function topicListRoutes(app: Hono<AppEnv>): void {
  app.get("/v1/topics", async (c) => {
    const names = await topicDirectory(c.env).list();
    const topics = await Promise.all(names.map((name) => topicStub(c.env, name).info(name)));
    return c.json({ topics });
  });
}
