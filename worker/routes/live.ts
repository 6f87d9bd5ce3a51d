import type { Handler } from "hono";
import { SubscribeQuerySchema } from "../../protocol/query.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";
import { checkTopic, topicStub } from "../topic-param.ts";
import { parseQuery } from "../validate.ts";

const isUpgrade = (header: string | undefined) => header?.toLowerCase() === "websocket";

/**
 * `GET /v1/topics/:topic/ws?after=&types=&epoch=`: checked here, then handed to the topic's DO.
 * Refusals of an upgrade go out on the socket (see the app's onError); a plain HTTP request gets
 * the usual JSON refusal.
 */
export const openLiveSocket: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  parseQuery(SubscribeQuerySchema, c.req.url);
  if (!isUpgrade(c.req.header("upgrade"))) {
    throw new MeshError("upgrade_required", "this route takes a WebSocket upgrade (Upgrade: websocket)");
  }
  const headers = new Headers(c.req.raw.headers);
  // What the topic's object is told about the caller comes from here only, never from the client.
  for (const name of [...headers.keys()]) if (name.startsWith("x-mesh-")) headers.delete(name);
  const principal = c.get("principal");
  headers.set("x-mesh-topic", topic);
  // Who connects, for the object's connection limits: a token is counted by its id, a key by its id.
  headers.set("x-mesh-client", c.req.header("cf-connecting-ip") ?? "local");
  headers.set("x-mesh-credential", `${principal.kind}:${principal.id}`);
  // A token is enforced while the socket stays open: its expiry, scope and revocation.
  if (principal.credential) headers.set("x-mesh-token", JSON.stringify(principal.credential));
  return topicStub(c.env, topic).fetch(new Request(c.req.url, { headers }));
};
