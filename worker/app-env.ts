import type { Catalog } from "../protocol/catalog.ts";
import type { Env } from "../runtime/env.ts";
import type { Principal } from "./auth/principal.ts";
import type { RouteDef } from "./routes/route-table.ts";

/** What every request handler can read of the mesh it runs in (set once per request by the app). */
export interface MeshSetup {
  catalog: Catalog;
}

/**
 * The hono app's environment: bindings plus what middleware sets for the handlers, among them the
 * routes the app serves (which its descriptions document).
 */
export type AppEnv = {
  Bindings: Env;
  Variables: { principal: Principal; mesh: MeshSetup; routes: readonly RouteDef[] };
};
