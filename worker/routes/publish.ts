import type { Handler, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { acceptedEvent } from "../../protocol/mesh-event.ts";
import type { PublishResponse } from "../../protocol/responses.ts";
import { readConfig } from "../../runtime/config.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";
import { parsePublishRequest } from "../publish-parser.ts";
import { checkTopic, topicStub } from "../topic-param.ts";

/** Refuses an oversized publish body while it streams in, before anything is parsed. */
export const publishBodyLimit: MiddlewareHandler<AppEnv> = (c, next) => {
  const limit = readConfig(c.env).maxBodyBytes;
  return bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new MeshError("body_too_large", `a publish body is at most ${limit} bytes`, { limit });
    },
  })(c, next);
};

/** `POST /v1/topics/:topic/events`: structured, batch or binary CloudEvents. */
export const publishEvents: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  const events = parsePublishRequest(
    {
      contentType: c.req.header("content-type") ?? null,
      headers: c.req.raw.headers,
      body: new Uint8Array(await c.req.arrayBuffer()),
    },
    readConfig(c.env),
    c.get("mesh").catalog,
  );
  const result = await topicStub(c.env, topic).publish(topic, events.map(acceptedEvent));
  const body: PublishResponse = { topic, events: result.events };
  const allDuplicates = result.events.every((e) => e.duplicate);
  return c.json(body, allDuplicates ? 200 : 201);
};
