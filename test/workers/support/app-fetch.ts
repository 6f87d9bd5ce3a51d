import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Env } from "../../../runtime/env.ts";
import { createApp } from "../../../worker/app.ts";
import { testCatalog } from "../../support/test-catalog.ts";

const app = createApp({ catalog: testCatalog });

/**
 * A request straight to the mesh's HTTP app (the one the pool's Worker serves) with the pool's
 * bindings, some of them changed by `vars`. Unlike exports.default.fetch it stays fast over
 * hundreds of requests, and it can run the app under other settings (no keys, public topics, CORS).
 */
export async function appFetch(request: Request, vars: Partial<Env> = {}): Promise<Response> {
  return app.fetch(request, { ...env, ...vars }, createExecutionContext());
}
