#!/usr/bin/env node
// `npm start`: builds the demo pages, then serves the mesh and the demo with `wrangler dev` on
// http://127.0.0.1:8787. Signals go to wrangler, which stops its workerd processes with it.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

const build = spawnSync(process.execPath, ["scripts/build-assets.mjs"], { stdio: "inherit", env });
if (build.status !== 0) process.exit(build.status ?? 1);

// Local secrets (keys for publishing and signing tokens) are prepared here, before wrangler
// reads .dev.vars.

const port = process.env.PORT ?? "8787";
// wrangler's own entry, not `npx`, so a signal reaches wrangler itself.
const wrangler = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const child = spawn(process.execPath, [wrangler, "dev", "--ip", "127.0.0.1", "--port", port], {
  stdio: "inherit",
  env,
});
console.log(`event-mesh demo: http://127.0.0.1:${port}  (console: http://127.0.0.1:${port}/console)`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
