import type { Handler } from "hono";
import { SubscribeQuerySchema } from "../../protocol/query.ts";
import { readConfig } from "../../runtime/config.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";
import { connectToHub } from "../hub-connect.ts";
import { checkTopic } from "../topic-param.ts";
import { parseQuery } from "../validate.ts";

const isUpgrade = (header: string | undefined) => header?.toLowerCase() === "websocket";

/**
 * `GET /v1/topics/:topic/ws?after=&types=&epoch=&batch=`: checked here, then handed to a hub that
 * holds it pinned to the topic (it takes no subscribe frames). The topic is the routing key, so a
 * topic's audience fills its first hubs before it spreads. Refusals of an upgrade go out on the
 * socket (see the app's onError); a plain HTTP request gets the usual JSON refusal.
 */
export const openLiveSocket: Handler<AppEnv> = async (c) => {
  const topic = checkTopic(c.req.param("topic"));
  parseQuery(SubscribeQuerySchema, c.req.url);
  if (!isUpgrade(c.req.header("upgrade"))) {
    throw new MeshError("upgrade_required", "this route takes a WebSocket upgrade (Upgrade: websocket)");
  }
  const headers = new Headers(c.req.raw.headers);
  // What the hub is told about the caller comes from here only, never from the client.
  for (const name of [...headers.keys()]) if (name.startsWith("x-mesh-")) headers.delete(name);
  const principal = c.get("principal");
  headers.set("x-mesh-topic", topic);
  // Who connects, for the hub's connection limits: a token is counted by its id, a key by its id.
  headers.set("x-mesh-client", c.req.header("cf-connecting-ip") ?? "local");
  headers.set("x-mesh-credential", `${principal.kind}:${principal.id}`);
  // A token is enforced while the socket stays open: its expiry, scope and revocation.
  if (principal.credential) headers.set("x-mesh-token", JSON.stringify(principal.credential));
  else headers.set("x-mesh-scope", JSON.stringify({ topics: principal.topics, ops: principal.ops }));
  const config = readConfig(c.env);
  return connectToHub(c.env, c.req.url, headers, {
    key: topic,
    poolSize: config.hubPoolSize,
    attempts: config.hubConnectAttempts,
  });
};
