import type { Handler, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { keyAuthContext, tokenAuthContext, withAuthContext } from "../../protocol/auth-context.ts";
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

/**
 * `POST /v1/topics/:topic/events`: structured, batch or binary CloudEvents, with a publisher key or
 * a subscriber token that allows `publish` on the topic. Each stored event names its publisher in
 * the authcontext attributes.
 */
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
  // The route's guard admits keys and tokens only: either one signs its events (authcontext).
  const principal = c.get("principal");
  const context = principal.credential ? tokenAuthContext(principal.credential) : keyAuthContext(principal.id);
  const accepted = events.map((event) => acceptedEvent(withAuthContext(event, context)));
  const result = await topicStub(c.env, topic).publish(topic, accepted);
  const body: PublishResponse = { topic, events: result.events };
  const allDuplicates = result.events.every((e) => e.duplicate);
  return c.json(body, allDuplicates ? 200 : 201);
};
