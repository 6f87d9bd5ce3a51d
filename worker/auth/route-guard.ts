import type { MiddlewareHandler } from "hono";
import type { ErrorCode } from "../../protocol/error-codes.ts";
import type { AppEnv } from "../app-env.ts";
import type { RouteAccess } from "../routes/route-def.ts";
import { requireAccess } from "./access.ts";
import { rateLimit } from "./rate-limit.ts";

/**
 * The checks a route's declared access needs, run in the Worker before any Durable Object is
 * called. A route without an access declaration is a programming error: it is never served.
 */
export function routeGuard(path: string, access: RouteAccess | undefined): MiddlewareHandler<AppEnv>[] {
  if (access === undefined) throw new Error(`route ${path} declares no access policy`);
  if ("public" in access) return [];
  const guard = requireAccess(access.op, {
    topicScoped: access.topic === true,
    queryToken: access.tokenInQuery === true,
  });
  return access.rateLimit ? [guard, rateLimit(access.rateLimit)] : [guard];
}

/**
 * The refusals the checks of `routeGuard` can give, so a route's description lists them from its
 * access declaration: any credential may be a token (expired or not), a topic route checks the
 * name first, and a rate-limited route may answer 429.
 */
export function accessRefusals(access: RouteAccess): ErrorCode[] {
  if ("public" in access) return [];
  return [
    "unauthorized",
    "token_expired",
    "forbidden",
    "auth_not_configured",
    ...(access.topic ? (["invalid_topic"] as const) : []),
    ...(access.rateLimit ? (["rate_limited"] as const) : []),
  ];
}
