import { createMeshClient } from "event-mesh/client";
import type { DemoCatalog } from "../catalog.ts";

/**
 * The pages' one mesh client, on the origin that served them, typed by the demo's catalog. It has
 * no credential of its own: each subscription brings its token (a visitor's, or one the console's key minted).
 */
export const meshClient = createMeshClient<DemoCatalog>({ url: location.origin });
