import type { Hono } from "hono";
import { SubscribeQuerySchema } from "../../protocol/query.ts";
import type { Env } from "../env.ts";
import { MeshError } from "../mesh-error.ts";
import { refuseSocket } from "../socket-refusal.ts";
import { checkTopic, topicStub } from "../topic-param.ts";
import { parseQuery } from "./topics.ts";

/**
 * `GET /v1/topics/:topic/ws?after=&types=&epoch=`: checked here, then handed to the topic's DO.
 * A bad upgrade is refused on the socket (error frame + terminal close code); a plain HTTP
 * request gets the usual JSON refusal.
 */
export function liveRoutes(app: Hono<{ Bindings: Env }>): void {
  app.get("/v1/topics/:topic/ws", async (c) => {
    const isUpgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    let topic: string;
    try {
      topic = checkTopic(c.req.param("topic"));
      parseQuery(SubscribeQuerySchema, c.req.url);
    } catch (err) {
      if (isUpgrade && err instanceof MeshError) return refuseSocket(err.code, err.message);
      throw err;
    }
    if (!isUpgrade) {
      throw new MeshError("upgrade_required", "this route takes a WebSocket upgrade (Upgrade: websocket)");
    }
    const headers = new Headers(c.req.raw.headers);
    headers.set("x-mesh-topic", topic);
    return topicStub(c.env, topic).fetch(new Request(c.req.url, { headers }));
  });
}
