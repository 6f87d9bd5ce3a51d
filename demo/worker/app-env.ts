import type { DemoEnv } from "./env.ts";
import type { MeshLink } from "./mesh-link.ts";

/** The demo routes' hono environment: the Worker's bindings, the visitor asking, and the way to the mesh. */
export type DemoApp = { Bindings: DemoEnv; Variables: { visitor: string; mesh: MeshLink } };
