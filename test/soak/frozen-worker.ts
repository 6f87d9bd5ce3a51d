import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Bundles the soak's Worker once, as `wrangler deploy` would, and answers the bundle's path.
 * `wrangler dev` watches every source file of the entrypoint it is given and restarts workerd when
 * one changes: on the source tree, an edit made elsewhere while the soak runs restarts the server
 * (and resets its memory) in the middle of a run. On this bundle, nothing changes under it.
 */
export function frozenWorker(config: string, entrypoint: string, outDir: string): string {
  rmSync(outDir, { recursive: true, force: true });
  const wrangler = resolve("node_modules", "wrangler", "bin", "wrangler.js");
  const result = spawnSync(
    process.execPath,
    [wrangler, "deploy", "--dry-run", "--config", config, "--outdir", outDir, entrypoint],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`bundling ${entrypoint} failed:\n${result.stdout}\n${result.stderr}`);
  const bundle = readdirSync(outDir).find((name) => name.endsWith(".js"));
  if (!bundle) throw new Error(`bundling ${entrypoint} wrote no .js file to ${outDir}`);
  return join(outDir, bundle);
}
