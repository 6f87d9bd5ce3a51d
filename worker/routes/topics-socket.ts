import type { Handler } from "hono";
import { TopicsSocketQuerySchema } from "../../protocol/query.ts";
import { readConfig } from "../../runtime/config.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";
import { randomKey } from "../hub-choice.ts";
import { connectToHub } from "../hub-connect.ts";
import { parseQuery } from "../validate.ts";

/**
 * `GET /v1/ws?token=&batch=&key=`: one socket that follows many topics, subscribed and unsubscribed
 * with frames on it. Checked here, then handed to a hub picked by the routing key (`key`, else a
 * random one). Refusals of an upgrade go out on the socket (see the app's onError).
 */
export const openTopicsSocket: Handler<AppEnv> = async (c) => {
  const query = parseQuery(TopicsSocketQuerySchema, c.req.url);
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new MeshError("upgrade_required", "this route takes a WebSocket upgrade (Upgrade: websocket)");
  }
  const headers = new Headers(c.req.raw.headers);
  // What the hub is told about the caller comes from here only, never from the client.
  for (const name of [...headers.keys()]) if (name.startsWith("x-mesh-")) headers.delete(name);
  const principal = c.get("principal");
  headers.set("x-mesh-client", c.req.header("cf-connecting-ip") ?? "local");
  headers.set("x-mesh-credential", `${principal.kind}:${principal.id}`);
  // A token is enforced while the socket stays open (expiry, scope, revocation); a key by its scope.
  if (principal.credential) headers.set("x-mesh-token", JSON.stringify(principal.credential));
  else headers.set("x-mesh-scope", JSON.stringify({ topics: principal.topics, ops: principal.ops }));
  const config = readConfig(c.env);
  return connectToHub(c.env, c.req.url, headers, {
    key: query.key ?? randomKey(),
    poolSize: config.hubPoolSize,
    attempts: config.hubConnectAttempts,
  });
};
