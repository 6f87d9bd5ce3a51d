#!/usr/bin/env node
// `npm run soak -- --minutes N`: bundles the TypeScript soak (Node 20 cannot run .ts itself) into
// test-output/soak/build, then runs it. Packages stay external, loaded from node_modules.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";
import { QUIET_WRANGLER_ENV } from "./quiet-wrangler.mjs";

const outfile = join("test-output", "soak", "build", "soak.mjs");
await build({
  entryPoints: [join("test", "soak", "soak.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "external",
  logLevel: "warning",
});

const result = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, ...QUIET_WRANGLER_ENV },
});
process.exit(result.status ?? 1);
