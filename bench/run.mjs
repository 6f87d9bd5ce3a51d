#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --out DIR]`: bundles the TypeScript bench (Node 20 cannot run .ts
// itself) into bench/results/tmp/build, then runs it. Packages stay external, loaded from node_modules.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { QUIET_WRANGLER_ENV } from "../scripts/quiet-wrangler.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "results", "tmp", "build");

await build({
  entryPoints: {
    main: join(here, "main.ts"),
    "ws-broadcaster": join(here, "peers", "ws-broadcaster.ts"),
    "jetstream-bridge": join(here, "peers", "jetstream-bridge.ts"),
  },
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  packages: "external",
  logLevel: "warning",
});

// A child process, so the bench's own exit code and signals are its own.
const result = spawnSync(process.execPath, [join(outdir, "main.mjs"), ...process.argv.slice(2)], {
  stdio: "inherit",
  cwd: join(here, ".."),
  env: { ...process.env, ...QUIET_WRANGLER_ENV },
});
process.exit(result.status ?? 1);
