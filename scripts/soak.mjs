#!/usr/bin/env node
// `npm run soak -- --minutes N`: the TypeScript soak, bundled into test-output/soak/build and run.
import { join } from "node:path";
import { runBundled } from "./run-bundled.mjs";

await runBundled({
  entryPoints: { soak: join("test", "soak", "soak.ts") },
  main: "soak",
  outdir: join("test-output", "soak", "build"),
});
