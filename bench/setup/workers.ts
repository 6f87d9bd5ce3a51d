import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { descendantsNamed } from "./processes.ts";

/** A Worker running locally under workerd, with the PIDs of the workerd processes it added. */
export interface LocalWorker {
  url: string;
  wsUrl: string;
  /** Headers every HTTP request carries (the bench key). */
  headers: Record<string, string>;
  /** A subscriber token for `?token=` in WebSocket URLs, where browsers cannot set headers. */
  token: string;
  workerdPids: number[];
  /** The bundle workerd runs (its config's one bundle of this process): the CPU profiles' frames point into it. */
  scriptPath: string;
  stop(): Promise<void>;
}

/** `inspectorPort`: opens workerd's V8 inspector there, for CPU profiles of the Worker and its objects. */
export interface LocalOptions {
  inspectorPort?: number;
}

/** Limits far above anything the bench sends, so rate limiting never shapes a figure. */
const UNLIMITED = { simple: { limit: 1_000_000_000, period: 60 as const } };

/**
 * The mesh under workerd on 127.0.0.1, state persisted to a temporary folder. It gets its own
 * all-scope key and token secret, and rate limiters raised out of reach; `vars` override settings
 * (the tests that hold thousands of sockets start it here: no dev proxy holds a second descriptor
 * per socket).
 */
export async function startMesh(vars: Record<string, string> = {}, options: LocalOptions = {}): Promise<LocalWorker> {
  const secret = randomBytes(32).toString("hex");
  const keys = [{ id: "bench", secret, topics: ["*"], ops: ["publish", "history", "subscribe", "mint", "admin"] }];
  return startLocal(
    "wrangler.toml",
    {
      MESH_KEYS: JSON.stringify(keys),
      MESH_TOKEN_SECRET: randomBytes(32).toString("hex"),
      // Every bench socket comes from one address with one token: the per-client caps stay out of reach.
      LIVE_MAX_SOCKETS_PER_CLIENT: "30000",
      LIVE_MAX_SOCKETS_PER_CREDENTIAL: "30000",
      // The delivery suite's webhook receiver listens on 127.0.0.1.
      WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
      ...vars,
    },
    { KEY_RATE_LIMITER: UNLIMITED, ADDRESS_RATE_LIMITER: UNLIMITED },
    secret,
    options,
  );
}

/**
 * The bench-only Worker that answers publishes without a Durable Object (the runtime's HTTP
 * ceiling), with its relaying and hop floor objects; `options` as for the mesh.
 */
export function startCeiling(options: LocalOptions = {}): Promise<LocalWorker> {
  return startLocal(join("bench", "ceiling", "wrangler.toml"), {}, {}, "", options);
}

/** A subscriber token for every topic: keys never travel in URLs, so WebSocket URLs carry this. */
async function subscriberToken(url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`${url}/v1/tokens`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ topics: ["*"], ttlSeconds: 86_400 }),
  });
  if (res.status !== 201) throw new Error(`the bench could not mint a token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Bundles a Worker exactly as `wrangler deploy` would, without deploying it; returns the entry module. */
function bundle(config: string, outDir: string): string {
  const wrangler = resolve("node_modules", "wrangler", "bin", "wrangler.js");
  const result = spawnSync(
    process.execPath,
    [wrangler, "deploy", "--dry-run", "--config", config, "--outdir", outDir],
    {
      encoding: "utf8",
    },
  );
  if (result.status !== 0) throw new Error(`bundling ${config} failed:\n${result.stdout}\n${result.stderr}`);
  // The bundle is named after the config's main module (mesh-worker.js, index.js): take the one there is.
  const entry = readdirSync(outDir).find((name) => name.endsWith(".js"));
  if (!entry) throw new Error(`bundling ${config} wrote no .js file to ${outDir}`);
  return join(outDir, entry);
}

/** Each config's bundle, made the first time a Worker of it starts, in a folder removed when the process exits. */
const bundles = new Map<string, string>();
let bundleRoot: string | null = null;

/**
 * The bundle of `config`, made once per process: a run starts the mesh and the ceiling Worker
 * several times (a fresh workerd per suite configuration), each bundle took about 2 s, and the
 * source is the same for all of them.
 */
function bundleOnce(config: string): string {
  const made = bundles.get(config);
  if (made) return made;
  if (bundleRoot === null) {
    const root = mkdtempSync(join(tmpdir(), "bench-bundles-"));
    bundleRoot = root;
    process.once("exit", () => rmSync(root, { recursive: true, force: true }));
  }
  const scriptPath = bundle(config, join(bundleRoot, String(bundles.size)));
  bundles.set(config, scriptPath);
  return scriptPath;
}

/**
 * Runs a Worker on workerd through Miniflare, with the options wrangler derives from its config
 * (bindings, Durable Objects, queues, assets), on a bundle made once at the start. Unlike
 * `wrangler dev`, nothing watches the source tree (an edit elsewhere cannot restart the mesh in
 * the middle of a run) and no dev proxy sits in front of the Worker.
 */
async function startLocal(
  config: string,
  secrets: Record<string, string>,
  ratelimits: Record<string, typeof UNLIMITED>,
  secret: string,
  options: LocalOptions,
): Promise<LocalWorker> {
  const dir = mkdtempSync(join(tmpdir(), "bench-workerd-"));
  try {
    return await startIn(dir, config, secrets, ratelimits, secret, options);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(
  dir: string,
  config: string,
  secrets: Record<string, string>,
  ratelimits: Record<string, typeof UNLIMITED>,
  secret: string,
  options: LocalOptions,
): Promise<LocalWorker> {
  const scriptPath = bundleOnce(config);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const before = new Set(descendantsNamed(process.pid, "workerd"));
  let errors = "";
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    inspectorPort: options.inspectorPort,
    defaultPersistRoot: join(dir, "state"),
    durableObjectsPersist: join(dir, "state", "do"),
    // Worker logs are read and dropped: their cost stays in the figures, their lines stay out of the table.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.on("data", (chunk: Buffer) => {
        errors = (errors + chunk.toString()).slice(-4000);
      });
    },
    workers: [
      {
        ...workerOptions,
        name: "bench",
        modules: true,
        modulesRoot: dirname(scriptPath),
        scriptPath,
        bindings: { ...workerOptions.bindings, ...secrets },
        ratelimits: { ...workerOptions.ratelimits, ...ratelimits },
      },
    ],
  });
  let url: string;
  try {
    url = (await mf.ready).origin;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw new Error(`${config} did not start under workerd: ${String(err)}\n${errors}`);
  }
  const workerdPids = descendantsNamed(process.pid, "workerd").filter((pid) => !before.has(pid));
  const headers: Record<string, string> = secret ? { authorization: `Bearer ${secret}` } : {};
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    headers,
    token: secret ? await subscriberToken(url, headers) : "",
    workerdPids,
    scriptPath,
    async stop() {
      await mf.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
