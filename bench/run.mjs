#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --out DIR]`: the TypeScript bench and its Node peers, bundled into
// bench/results/tmp/build and run from the repository root.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runBundled } from "../scripts/run-bundled.mjs";

const here = dirname(fileURLToPath(import.meta.url));
await runBundled({
  entryPoints: {
    main: join(here, "main.ts"),
    "ws-broadcaster": join(here, "peers", "ws-broadcaster.ts"),
    "jetstream-bridge": join(here, "peers", "jetstream-bridge.ts"),
  },
  main: "main",
  outdir: join(here, "results", "tmp", "build"),
  cwd: join(here, ".."),
});
