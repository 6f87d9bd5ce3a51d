import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { LocalHttp } from "./local-http.ts";
import { serveFiles } from "./static-server.ts";

/**
 * Serves a one-page app for a browser test: `entry` (a .tsx file next to the test) bundled from the
 * current client source with preact, as an app would bundle it, behind a bare HTML page.
 */
export async function servePreactPage(entry: URL, title: string): Promise<LocalHttp> {
  const bundle = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    write: false,
    format: "esm",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    logLevel: "warning",
  });
  return serveFiles({
    "/": `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title></head><body><script type="module" src="/app.js"></script></body></html>`,
    "/app.js": bundle.outputFiles[0].text,
  });
}
