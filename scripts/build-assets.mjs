#!/usr/bin/env node
// Bundles the demo pages (demo/src/*.tsx, preact) into demo/public/build/, which the demo serves
// as static assets (demo/wrangler.toml [assets]). Shared code (preact, the mesh client) goes into
// chunks both pages load.
import { rmSync } from "node:fs";
import { build } from "esbuild";

const outdir = "demo/public/build";
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  entryPoints: { signup: "demo/src/signup.tsx", console: "demo/src/console.tsx" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  jsx: "automatic",
  jsxImportSource: "preact",
  chunkNames: "chunks/[name]-[hash]",
  metafile: true,
  logLevel: "warning",
});

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith(".js"))
  .map(([file, { bytes }]) => `${file.slice(outdir.length + 1)} ${(bytes / 1024).toFixed(1)} KiB`);
console.log(`demo assets built: ${sizes.join(", ")}`);
