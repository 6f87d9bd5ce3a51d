import type { MiddlewareHandler } from "hono";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";

/** The window of the Workers rate limiting bindings in wrangler.toml (10 or 60 seconds). */
const WINDOW_SECONDS = 10;

/**
 * Limits a route per credential and per client address with the Workers rate limiting bindings
 * (counted at Cloudflare's edge in production, in memory under wrangler dev).
 */
export function rateLimit(kind: "publish" | "mint"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    const address = c.req.header("cf-connecting-ip") ?? "local";
    const [byKey, byAddress] = await Promise.all([
      c.env.KEY_RATE_LIMITER.limit({ key: `${kind}:${principal.kind}:${principal.id}` }),
      c.env.ADDRESS_RATE_LIMITER.limit({ key: `${kind}:${address}` }),
    ]);
    if (!byKey.success || !byAddress.success) {
      const which = byKey.success ? "this client address" : "this key";
      throw new MeshError(
        "rate_limited",
        `too many ${kind} requests from ${which}; retry after ${WINDOW_SECONDS} s`,
        { retryAfterSeconds: WINDOW_SECONDS },
        { "retry-after": String(WINDOW_SECONDS) },
      );
    }
    return next();
  };
}
