import type { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { PublishResponse } from "../../protocol/responses.ts";
import { readConfig } from "../config.ts";
import type { AppEnv } from "../env.ts";
import { MeshError } from "../mesh-error.ts";
import { parsePublishRequest } from "../publish-parser.ts";
import { checkTopic, topicStub } from "../topic-param.ts";

/** `POST /v1/topics/:topic/events`: structured, batch or binary CloudEvents. */
export function publishRoutes(app: Hono<AppEnv>): void {
  app.post(
    "/v1/topics/:topic/events",
    async (c, next) => {
      checkTopic(c.req.param("topic"));
      const limit = readConfig(c.env).maxBodyBytes;
      // Refuses an oversized body while it streams in, before anything is parsed.
      return bodyLimit({
        maxSize: limit,
        onError: () => {
          throw new MeshError("body_too_large", `a publish body is at most ${limit} bytes`, { limit });
        },
      })(c, next);
    },
    async (c) => {
      const topic = checkTopic(c.req.param("topic"));
      const config = readConfig(c.env);
      const events = parsePublishRequest(
        {
          contentType: c.req.header("content-type") ?? null,
          headers: c.req.raw.headers,
          body: new Uint8Array(await c.req.arrayBuffer()),
        },
        config,
      );
      const result = await topicStub(c.env, topic).publish(topic, events);
      const body: PublishResponse = { topic, events: result.events };
      const allDuplicates = result.events.every((e) => e.duplicate);
      return c.json(body, allDuplicates ? 200 : 201);
    },
  );
}
