import type { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { requireAccess } from "./access.ts";
import { corsPolicy } from "./cors-policy.ts";
import { rateLimit } from "./rate-limit.ts";

/**
 * Who may call what, in one table, registered before the routes so every check runs in the
 * Worker before any Durable Object is called. `/v1/schemas` and the demo's own routes are public.
 */
export function guardRoutes(app: Hono<AppEnv>): void {
  app.use("/v1/*", corsPolicy());
  const topicScoped = { topicScoped: true };
  app.on("POST", "/v1/topics/:topic/events", requireAccess("publish", topicScoped), rateLimit("publish"));
  app.on("GET", ["/v1/topics/:topic/events", "/v1/topics/:topic"], requireAccess("history", topicScoped));
  // Browsers cannot set headers on a WebSocket: the token may come as ?token=.
  app.on("GET", "/v1/topics/:topic/ws", requireAccess("subscribe", { topicScoped: true, queryToken: true }));
  app.on("GET", "/v1/topics", requireAccess("admin"));
  app.use("/v1/topics/:topic/subscriptions", requireAccess("admin", topicScoped));
  app.use("/v1/topics/:topic/subscriptions/*", requireAccess("admin", topicScoped));
  app.use("/v1/dead-letters", requireAccess("admin"));
  app.use("/v1/dead-letters/*", requireAccess("admin"));
  app.on("POST", "/v1/tokens", requireAccess("mint"), rateLimit("mint"));
}
