import type { Context } from "hono";
import { readConfig } from "../runtime/config.ts";
import { MeshError } from "../runtime/mesh-error.ts";
import type { AppEnv } from "./app-env.ts";
import { connectToHub } from "./hub-connect.ts";

/**
 * Hands a checked WebSocket upgrade to a hub picked by `key`; `pinned` is the topic of a one-topic
 * socket (null for `/v1/ws`). What the hub is told about the caller comes from here only, never
 * from the client. Refusals of an upgrade go out on the socket (see the app's onError); a plain
 * HTTP request gets the usual JSON refusal.
 */
export function handOffSocket(c: Context<AppEnv>, key: string, pinned: string | null): Promise<Response> {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new MeshError("upgrade_required", "this route takes a WebSocket upgrade (Upgrade: websocket)");
  }
  const headers = new Headers(c.req.raw.headers);
  for (const name of [...headers.keys()]) if (name.startsWith("x-mesh-")) headers.delete(name);
  if (pinned !== null) headers.set("x-mesh-topic", pinned);
  const principal = c.get("principal");
  // Who connects, for the hub's connection limits: a token is counted by its id, a key by its id.
  headers.set("x-mesh-client", c.req.header("cf-connecting-ip") ?? "local");
  headers.set("x-mesh-credential", `${principal.kind}:${principal.id}`);
  // A token is enforced while the socket stays open (expiry, scope, revocation); a key by its scope.
  if (principal.credential) headers.set("x-mesh-token", JSON.stringify(principal.credential));
  else headers.set("x-mesh-scope", JSON.stringify({ topics: principal.topics, ops: principal.ops }));
  const config = readConfig(c.env);
  return connectToHub(c.env, c.req.url, headers, {
    key,
    poolSize: config.hubPoolSize,
    attempts: config.hubConnectAttempts,
  });
}
