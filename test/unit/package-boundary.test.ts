import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * The package's entry points, bundled for a browser as a web app would import them: each brings
 * only what it needs. None may pull in the server (hono, Durable Objects, `cloudflare:` modules).
 */
async function inputsOf(
  entry: string,
  platform: "browser" | "node" = "browser",
  conditions?: string[],
): Promise<string[]> {
  const result = await build({
    stdin: { contents: `export * from "${entry}";`, resolveDir: process.cwd(), loader: "ts" },
    bundle: true,
    write: false,
    platform,
    conditions,
    format: "esm",
    metafile: true,
    logLevel: "silent",
  });
  return Object.keys((result.metafile as Metafile).inputs);
}

const serverSide = (file: string) => /node_modules\/hono\/|^(worker|runtime|durable-objects)\/|cloudflare:/.test(file);

describe("the package's browser entry points", () => {
  it("event-mesh/client: the live client with partysocket, no server code", async () => {
    const inputs = await inputsOf("event-mesh/client");
    expect(inputs.filter(serverSide)).toEqual([]);
    expect(inputs.some((f) => f.includes("node_modules/partysocket/"))).toBe(true);
    expect(inputs.some((f) => f.startsWith("client/publisher"))).toBe(false);
  });

  it("event-mesh/publisher: fetch only, no WebSocket client and no server code", async () => {
    const inputs = await inputsOf("event-mesh/publisher");
    expect(inputs.filter(serverSide)).toEqual([]);
    expect(inputs.some((f) => f.includes("partysocket") || f.startsWith("client/subscription"))).toBe(false);
    expect(inputs.some((f) => f.startsWith("client/node/"))).toBe(false);
  });

  it("event-mesh/publisher resolves to the node:http entry in Node, to the fetch one in Workers", async () => {
    const node = await inputsOf("event-mesh/publisher", "node");
    expect(node).toContain("client/node/node-transport.ts");
    expect(node.filter(serverSide)).toEqual([]);
    // wrangler bundles with the conditions workerd, worker and browser.
    const worker = await inputsOf("event-mesh/publisher", "browser", ["workerd", "worker", "browser"]);
    expect(worker).toContain("client/publisher.ts");
    expect(worker.some((f) => f.startsWith("client/node/"))).toBe(false);
  });

  it("event-mesh/preact: the hook on preact, no server code", async () => {
    const inputs = await inputsOf("event-mesh/preact");
    expect(inputs.filter(serverSide)).toEqual([]);
    expect(inputs.some((f) => f.includes("node_modules/preact/"))).toBe(true);
  });

  it("event-mesh itself is the server entry: it cannot end up in a browser bundle", async () => {
    const result = build({
      stdin: { contents: `export * from "event-mesh";`, resolveDir: process.cwd(), loader: "ts" },
      bundle: true,
      write: false,
      platform: "browser",
      format: "esm",
      logLevel: "silent",
    });
    // `cloudflare:workers` exists only in workerd: the server entry cannot be bundled for a browser.
    await expect(result).rejects.toThrow(/cloudflare:workers/);
  });
});
