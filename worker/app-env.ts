import type { Catalog } from "../protocol/catalog.ts";
import type { JsonObject } from "../protocol/json.ts";
import type { Env } from "../runtime/env.ts";
import type { Principal } from "./auth/principal.ts";

/** The machine-readable descriptions of the app's API (worker/api-docs/), built once per app. */
export interface ApiDescriptions {
  openApi(): JsonObject;
  asyncApi(): JsonObject;
}

/** What every request handler can read of the mesh it runs in (set once per request by the app). */
export interface MeshSetup {
  catalog: Catalog;
  descriptions: ApiDescriptions;
}

/** The hono app's environment: bindings plus what middleware sets for the handlers. */
export type AppEnv = { Bindings: Env; Variables: { principal: Principal; mesh: MeshSetup } };
