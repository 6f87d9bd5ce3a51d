// Node 20 cannot run TypeScript: the bench and the soak are bundled with esbuild (packages stay
// external, loaded from node_modules), then run as a child process, so their exit code and signals
// are their own. Arguments after the script's own go through.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";
import { QUIET_WRANGLER_ENV } from "./quiet-wrangler.mjs";

/**
 * Bundles `entryPoints` (name → .ts file) into `outdir` as <name>.mjs, runs <main>.mjs in `cwd`
 * and exits with its exit code.
 * @param {{ entryPoints: Record<string, string>, main: string, outdir: string, cwd?: string }} options
 */
export async function runBundled({ entryPoints, main, outdir, cwd }) {
  await build({
    entryPoints,
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: "external",
    logLevel: "warning",
  });
  const result = spawnSync(process.execPath, [join(outdir, `${main}.mjs`), ...process.argv.slice(2)], {
    stdio: "inherit",
    cwd,
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
  });
  process.exit(result.status ?? 1);
}
