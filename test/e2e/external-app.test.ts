import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ErrorBody } from "../../protocol/error-codes.ts";
import { ChildServer } from "../support/child-server.ts";
import { ADMIN_AUTH } from "../support/credentials.ts";

/**
 * An app built on the mesh from outside this repository, exactly as docs/own-worker.md tells a
 * newcomer: its catalog.ts, worker.ts, wrangler.toml and tsconfig.json are taken from the guide's
 * code blocks, the mesh comes from the tarball `npm pack` makes, and the app is type-checked,
 * bundled by wrangler and run. Its event type is one the mesh has never heard of.
 */

const REPO = resolve(".");
const GUIDE = "docs/own-worker.md";
const quiet = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CI: "1" };

/** The guide's code blocks that open with `// <file>` (or, for the toml, `name = …`), by file name. */
function guideFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [, lang, body] of readFileSync(GUIDE, "utf8").matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    const named = /^\/\/ ([\w.-]+)\n/.exec(body);
    if (named && (lang === "ts" || lang === "jsonc")) files.set(named[1], body.slice(named[0].length));
    else if (lang === "toml" && body.startsWith("name = ")) files.set("wrangler.toml", body);
  }
  return files;
}

/** Compile-time checks an app gets from its catalog: each @ts-expect-error must meet an error. */
const TYPING = `
import { createMeshClient } from "event-mesh/client";
import { createPublisher } from "event-mesh/publisher";
import type { catalog } from "./catalog";

const publisher = createPublisher<typeof catalog>({ baseUrl: "http://mesh.example" });
// @ts-expect-error total is a number in the catalog
void publisher.publish("orders", { type: "OrderPlaced", data: { orderId: "o-1", total: "42" } });
void publisher.publish("orders", { type: "OrderPlaced", data: { orderId: "o-1", total: 42 } });
createMeshClient<typeof catalog>({ url: "http://mesh.example" }).subscribe("orders", {
  types: ["OrderPlaced"],
  onEvent(event) {
    const total: number = event.data.total;
    // @ts-expect-error the catalog's OrderPlaced has no such field
    void event.data.customer;
    void total;
  },
});
`;

const dir = mkdtempSync(join(tmpdir(), "mesh-external-app-"));
let server: ChildServer;

beforeAll(async () => {
  const files = guideFiles();
  for (const name of ["catalog.ts", "worker.ts", "wrangler.toml", "tsconfig.json"]) {
    const text = files.get(name);
    if (text === undefined) throw new Error(`${GUIDE} has no code block for ${name}`);
    writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(dir, "typing.ts"), TYPING);
  execFileSync("npm", ["pack", "--pack-destination", dir], { cwd: REPO, env: quiet, stdio: "pipe" });
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  const versionOf = (name: string) =>
    JSON.parse(readFileSync(join(REPO, "node_modules", name, "package.json"), "utf8")).version as string;
  const pkg = {
    name: "my-mesh",
    private: true,
    type: "module",
    dependencies: { "event-mesh": `file:./${tarball}`, valibot: versionOf("valibot") },
    devDependencies: { "@cloudflare/workers-types": versionOf("@cloudflare/workers-types") },
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: dir,
    env: quiet,
    stdio: "pipe",
  });
  const wrangler = join(REPO, "node_modules", "wrangler", "bin", "wrangler.js");
  execFileSync(process.execPath, [wrangler, "types", "--include-runtime", "false", "--env-file=/dev/null"], {
    cwd: dir,
    env: quiet,
    stdio: "pipe",
  });
  server = new ChildServer({ config: join(dir, "wrangler.toml"), entrypoint: join(dir, "worker.ts"), logLevel: "log" });
  await server.start();
}, 180_000);

afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const call = (path: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${server.url}${path}`, {
    method: init.method ?? "GET",
    headers: { ...ADMIN_AUTH, "content-type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });

const order = (id: string, data: unknown) => ({
  specversion: "1.0",
  id,
  source: "/checkout",
  type: "OrderPlaced",
  data,
});

describe("an app built on the mesh from outside the repository", () => {
  it("type-checks against its own catalog with the package's declarations", () => {
    const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
    const run = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("stores a valid OrderPlaced and delivers it to its own consumer", async () => {
    const subscription = await call("/v1/topics/orders/subscriptions/fulfilment", {
      method: "PUT",
      body: { target: { type: "queue", queue: "DELIVERY_QUEUE" }, types: ["OrderPlaced"], start: "earliest" },
    });
    expect(subscription.status).toBe(201);
    const published = await call("/v1/topics/orders/events", {
      method: "POST",
      body: order("o-1", { orderId: "o-1", total: 42 }),
    });
    expect(published.status).toBe(201);
    expect(await published.json()).toMatchObject({ events: [{ id: "o-1", seq: 1, duplicate: false }] });
    const history = await (await call("/v1/topics/orders/events")).json();
    expect(history).toMatchObject({
      head: 1,
      events: [{ id: "o-1", type: "OrderPlaced", seq: 1, data: { total: 42 } }],
    });
    // The guide's consumer logs "order received" with the typed data it was handed.
    await vi.waitFor(
      () => {
        const line = server.log.split("\n").find((l) => l.includes('"msg":"order received"'));
        expect(line && JSON.parse(line.slice(line.indexOf("{")))).toMatchObject({
          consumer: "fulfilment",
          topic: "orders",
          seq: 1,
          orderId: "o-1",
          total: 42,
        });
      },
      { timeout: 30_000, interval: 250 },
    );
  });

  it("refuses invalid data with 422 naming the field, and stores nothing", async () => {
    const res = await call("/v1/topics/orders/events", {
      method: "POST",
      body: order("o-2", { orderId: "o-2", total: "42" }),
    });
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({ code: "schema_mismatch", type: "OrderPlaced", issues: [{ path: "total" }] });
    expect(error.message).toContain("OrderPlaced");
    expect(await (await call("/v1/topics/orders")).json()).toMatchObject({ head: 1 });
  });

  it("has no demo: its routes are the mesh's and its catalog is its own", async () => {
    for (const path of ["/demo/users", "/demo/token", "/"]) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({ error: { code: "not_found" } });
    }
    expect(await (await call("/v1/schemas")).json()).toEqual({ types: { OrderPlaced: expect.any(Object) } });
  });
});
