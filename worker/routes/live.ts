import type { Hono, MiddlewareHandler } from "hono";
import { SubscribeQuerySchema } from "../../protocol/query.ts";
import type { Env } from "../env.ts";
import { MeshError } from "../mesh-error.ts";
import { refuseSocket } from "../socket-refusal.ts";
import { checkTopic, topicStub } from "../topic-param.ts";
import { parseQuery } from "./topics.ts";

const isUpgrade = (header: string | undefined) => header?.toLowerCase() === "websocket";

/**
 * Turns any refusal on the WebSocket route (bad topic, bad query, and the checks of middleware
 * added after this one, such as auth) into a socket refusal for upgrade requests: a WebSocket
 * client cannot read an HTTP 4xx, only a close code.
 */
export const refuseOnSocket: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.error instanceof MeshError && isUpgrade(c.req.header("upgrade"))) {
    // Cleared first: hono copies the old response's headers onto a replacing one.
    c.res = undefined;
    c.res = refuseSocket(c.error.code, c.error.message);
  }
};

/**
 * `GET /v1/topics/:topic/ws?after=&types=&epoch=`: checked here, then handed to the topic's DO.
 * A plain HTTP request gets the usual JSON refusal.
 */
export function liveRoutes(app: Hono<{ Bindings: Env }>): void {
  app.get("/v1/topics/:topic/ws", refuseOnSocket, async (c) => {
    const topic = checkTopic(c.req.param("topic"));
    parseQuery(SubscribeQuerySchema, c.req.url);
    if (!isUpgrade(c.req.header("upgrade"))) {
      throw new MeshError("upgrade_required", "this route takes a WebSocket upgrade (Upgrade: websocket)");
    }
    const headers = new Headers(c.req.raw.headers);
    headers.set("x-mesh-topic", topic);
    return topicStub(c.env, topic).fetch(new Request(c.req.url, { headers }));
  });
}
