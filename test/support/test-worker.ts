/**
 * The mesh with the tests' own catalog, as an app would build it: what the end-to-end and
 * reliability servers run (their wrangler config is the root one, with this entry point).
 */
import { createMesh } from "../../worker/index.ts";
import { testCatalog } from "./test-catalog.ts";

export * from "../../worker/durable-object-classes.ts";

export default createMesh({ catalog: testCatalog });
