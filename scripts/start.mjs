#!/usr/bin/env node
// `npm start`: builds the demo pages, then serves the demo (its Worker runs the whole mesh) with
// `wrangler dev -c demo/wrangler.toml` on http://127.0.0.1:8787. Signals go to wrangler, which
// stops its workerd processes with it.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { DEV_VARS, ensureDevVars } from "./dev-vars.mjs";
import { QUIET_WRANGLER_ENV } from "./quiet-wrangler.mjs";

const env = { ...process.env, ...QUIET_WRANGLER_ENV };

const build = spawnSync(process.execPath, ["scripts/build-assets.mjs"], { stdio: "inherit", env });
if (build.status !== 0) process.exit(build.status ?? 1);

const adminKey = ensureDevVars();

const port = process.env.PORT ?? "8787";
// wrangler's own entry, not `npx`, so a signal reaches wrangler itself.
const wrangler = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const args = ["dev", "-c", "demo/wrangler.toml", "--ip", "127.0.0.1", "--port", port];
const child = spawn(process.execPath, [wrangler, ...args], {
  stdio: "inherit",
  env,
});
const base = `http://127.0.0.1:${port}`;
console.log(`signup page:        ${base}`);
if (adminKey) {
  console.log(`operator console:   ${base}/console#key=${adminKey}`);
  console.log(`publish with curl:  curl -X POST ${base}/v1/topics/hello/events \\
  -H 'authorization: Bearer ${adminKey}' -H 'content-type: application/json' \\
  -d '{"id":"1","source":"/me","type":"Hello","specversion":"1.0","data":{"hi":true}}'`);
} else {
  console.log(`operator console:   ${base}/console (paste the operator's admin key from ${DEV_VARS})`);
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
