import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../app-env.ts";

/**
 * Cross-origin browser access to the API, for the origins listed in CORS_ORIGINS only (none by
 * default). Registered before the auth checks so a preflight, which carries no credential, is
 * answered; the real request is still authenticated.
 */
export function corsPolicy(): MiddlewareHandler<AppEnv> {
  return cors({
    origin: (origin, c) => {
      const allowed = ((c.env as AppEnv["Bindings"]).CORS_ORIGINS ?? "")
        .split(",")
        .map((o) => o.trim())
        .filter((o) => o.length > 0);
      return allowed.includes(origin) ? origin : null;
    },
    allowMethods: ["GET", "POST", "PUT", "DELETE"],
    allowHeaders: ["authorization", "content-type", "traceparent", "tracestate"],
    exposeHeaders: ["retry-after"],
    maxAge: 600,
  });
}
