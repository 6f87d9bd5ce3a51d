import { exports } from "cloudflare:workers";
import { ADMIN_AUTH } from "../../support/credentials.ts";

/**
 * A request to the real Worker (exports.default) carrying the all-scope test key, for tests about
 * something other than auth (route-security.test.ts and security.test.ts cover refusals). A request that sets
 * its own Authorization header keeps it.
 */
export function meshFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", ADMIN_AUTH.authorization);
  const url = input.startsWith("/") ? `http://mesh${input}` : input;
  return exports.default.fetch(url, { ...init, headers });
}
