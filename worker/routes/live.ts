import type { Hono } from "hono";
import { SubscribeQuerySchema } from "../../protocol/query.ts";
import type { Env } from "../env.ts";
import { MeshError } from "../mesh-error.ts";
import { checkTopic, topicStub } from "../topic-param.ts";
import { parseQuery } from "./topics.ts";

/** `GET /v1/topics/:topic/ws?after=&types=`: checked here, then handed to the topic's DO. */
export function liveRoutes(app: Hono<{ Bindings: Env }>): void {
  app.get("/v1/topics/:topic/ws", async (c) => {
    const topic = checkTopic(c.req.param("topic"));
    parseQuery(SubscribeQuerySchema, c.req.url);
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new MeshError("upgrade_required", "this route takes a WebSocket upgrade (Upgrade: websocket)");
    }
    const headers = new Headers(c.req.raw.headers);
    headers.set("x-mesh-topic", topic);
    return topicStub(c.env, topic).fetch(new Request(c.req.url, { headers }));
  });
}
