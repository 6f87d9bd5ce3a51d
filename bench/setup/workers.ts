import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { descendantsNamed } from "./processes.ts";

type Worker = Awaited<ReturnType<typeof unstable_startWorker>>;

/** A Worker running locally under workerd, with the PIDs of the workerd processes it added. */
export interface LocalWorker {
  url: string;
  wsUrl: string;
  /** Headers every HTTP request carries (the bench key). */
  headers: Record<string, string>;
  /** `?token=` for WebSocket URLs, where browsers cannot set headers. */
  token: string;
  workerdPids: number[];
  stop(): Promise<void>;
}

/** Limits far above anything the bench sends, so rate limiting never shapes a figure. */
const UNLIMITED = { limit: 1_000_000_000, period: 60 as const };

/**
 * The mesh under wrangler's dev server (workerd) on 127.0.0.1, state persisted to a temporary
 * folder. It gets its own all-scope key and token secret, and rate limiters raised out of reach.
 */
export async function startMesh(): Promise<LocalWorker> {
  const secret = randomBytes(32).toString("hex");
  const keys = [{ id: "bench", secret, topics: ["*"], ops: ["publish", "history", "subscribe", "mint", "admin"] }];
  return startLocal(
    "wrangler.toml",
    {
      MESH_KEYS: { type: "secret_text", value: JSON.stringify(keys) },
      MESH_TOKEN_SECRET: { type: "secret_text", value: randomBytes(32).toString("hex") },
      KEY_RATE_LIMITER: { type: "ratelimit", namespace_id: "9001", simple: UNLIMITED },
      ADDRESS_RATE_LIMITER: { type: "ratelimit", namespace_id: "9002", simple: UNLIMITED },
    },
    secret,
  );
}

/** The bench-only Worker that answers publishes without a Durable Object: the runtime's HTTP ceiling. */
export function startCeiling(): Promise<LocalWorker> {
  return startLocal("bench/ceiling/wrangler.toml", {}, "");
}

async function startLocal(
  config: string,
  bindings: NonNullable<Parameters<typeof unstable_startWorker>[0]["bindings"]>,
  secret: string,
): Promise<LocalWorker> {
  const persistDir = mkdtempSync(join(tmpdir(), "bench-workerd-"));
  const before = new Set(descendantsNamed(process.pid, "workerd"));
  const worker: Worker = await unstable_startWorker({
    config,
    bindings,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      persist: persistDir,
      watch: false,
      logLevel: "warn",
    },
  });
  await worker.ready;
  const url = (await worker.url).origin;
  const workerdPids = descendantsNamed(process.pid, "workerd").filter((pid) => !before.has(pid));
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    headers: secret ? { authorization: `Bearer ${secret}` } : {},
    token: secret,
    workerdPids,
    async stop() {
      await worker.dispose();
      rmSync(persistDir, { recursive: true, force: true });
    },
  };
}
