import type { Env as MeshEnv } from "../worker/env.ts";

declare global {
  namespace Cloudflare {
    interface Env extends MeshEnv {}
    interface GlobalProps {
      mainModule: typeof import("../worker/index.ts");
    }
  }
}
