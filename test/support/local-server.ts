import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";
import { QUIET_WRANGLER_ENV } from "../../scripts/quiet-wrangler.mjs";
import { TEST_SERVER_VARS } from "./credentials.ts";

// wrangler runs in this process: quiet and offline here too.
Object.assign(process.env, QUIET_WRANGLER_ENV);

type Worker = Awaited<ReturnType<typeof unstable_startWorker>>;

/** The main module test servers run: the mesh with the tests' own catalog. */
export const TEST_WORKER = "test/support/test-worker.ts";

export interface LocalServerOptions {
  /** Extra plain-text vars, overriding wrangler.toml (e.g. a small RETENTION_MAX_EVENTS). */
  vars?: Record<string, string>;
  /** Another wrangler config (default wrangler.toml), e.g. one with tiny rate limits. */
  config?: string;
  /** The Worker's main module (default: the mesh with the tests' catalog). */
  entrypoint?: string;
}

/**
 * A real local mesh (wrangler's dev server on workerd) on 127.0.0.1, with its state persisted to
 * a temporary folder so it can be stopped and started again on the same port with the same log.
 */
export class LocalServer {
  readonly persistDir = mkdtempSync(join(tmpdir(), "mesh-e2e-"));
  private worker: Worker | null = null;
  private port = 0;
  url = "";

  constructor(private readonly options: LocalServerOptions = {}) {}

  async start(): Promise<this> {
    const vars = { ...TEST_SERVER_VARS, ...this.options.vars };
    const bindings = Object.fromEntries(
      Object.entries(vars).map(([name, value]) => [name, { type: "plain_text" as const, value }]),
    );
    this.worker = await unstable_startWorker({
      config: this.options.config ?? "wrangler.toml",
      entrypoint: this.options.entrypoint ?? TEST_WORKER,
      bindings,
      dev: {
        server: { hostname: "127.0.0.1", port: this.port },
        inspector: false,
        persist: this.persistDir,
        watch: false,
        logLevel: "warn",
      },
    });
    await this.worker.ready;
    const url = await this.worker.url;
    this.port = Number(url.port);
    this.url = url.origin;
    return this;
  }

  /** Stops the runtime; state stays in the persist folder for the next `start()`. */
  async stop(): Promise<void> {
    await this.worker?.dispose();
    this.worker = null;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and deletes its state. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.persistDir, { recursive: true, force: true });
  }

  get wsUrl(): string {
    return this.url.replace(/^http/, "ws");
  }
}
