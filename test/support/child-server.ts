import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/loopback.mjs";
import { QUIET_WRANGLER_ENV } from "../../scripts/quiet-wrangler.mjs";
import { TEST_SERVER_VARS } from "./credentials.ts";
import { TEST_WORKER } from "./local-server.ts";

export interface ChildServerOptions {
  /** Extra plain-text vars, overriding wrangler.toml. */
  vars?: Record<string, string>;
  /** Another wrangler config (default wrangler.toml), e.g. one with higher rate limits. */
  config?: string;
  /** The Worker's main module (default: the mesh with the tests' catalog). */
  entrypoint?: string;
  /** How long a start may take before it counts as failed (default 60 s). */
  startTimeoutMs?: number;
  /** wrangler's log level (default warn); `log` shows the Worker's own log lines in `log`. */
  logLevel?: "warn" | "log";
  /** The port DevTools connect to (default: one wrangler picks). */
  inspectorPort?: number;
}

/**
 * The real local mesh as `wrangler dev` in a child process group, so a test can kill it the hard
 * way (SIGKILL to wrangler and its workerd children at once, as a crash or an OOM kill would) and
 * start it again on the same port with the state persisted in the same folder.
 */
export class ChildServer {
  readonly persistDir = mkdtempSync(join(tmpdir(), "mesh-child-"));
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private port = 0;
  /** The last lines wrangler printed, for failure messages. */
  private output: string[] = [];
  /** Starts so far (the first included). */
  starts = 0;

  constructor(private readonly options: ChildServerOptions = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Process ids of wrangler and everything it started (its process group). */
  get pids(): number[] {
    const group = this.child?.pid;
    if (group === undefined) return [];
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          // Field 5 of /proc/<pid>/stat is the process group; the name in field 2 may hold spaces.
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === group;
        } catch {
          return false;
        }
      })
      .map(Number);
  }

  /** Resident memory of the workerd processes of this server, in bytes. */
  workerdRssBytes(): number {
    let total = 0;
    for (const pid of this.pids) {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd")) continue;
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        if (rss) total += Number(rss[1]) * 1024;
      } catch {
        // The process ended between the listing and the read.
      }
    }
    return total;
  }

  async start(): Promise<this> {
    if (this.child) throw new Error("already running");
    if (this.port === 0) this.port = await freePort();
    const vars = { ...TEST_SERVER_VARS, ...this.options.vars };
    const args = [
      "node_modules/wrangler/bin/wrangler.js",
      "dev",
      this.options.entrypoint ?? TEST_WORKER,
      "--config",
      this.options.config ?? "wrangler.toml",
      "--ip",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--persist-to",
      this.persistDir,
      "--show-interactive-dev-session=false",
      "--log-level",
      this.options.logLevel ?? "warn",
      ...(this.options.inspectorPort === undefined ? [] : ["--inspector-port", String(this.options.inspectorPort)]),
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ];
    const child = spawn(process.execPath, args, {
      // Its own process group: one signal to -pid reaches wrangler, workerd and esbuild.
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...QUIET_WRANGLER_ENV },
    });
    this.child = child;
    this.starts += 1;
    this.output = [];
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    await this.waitReady(child);
    return this;
  }

  /** SIGKILL to the whole process group: nothing gets to shut down cleanly. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** SIGTERM to the process group, as a normal shutdown. */
  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  /** Kills (SIGKILL) and starts again with the same port and persisted state. */
  async crashAndRestart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Stops the server and deletes its state. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.persistDir, { recursive: true, force: true });
  }

  /** What wrangler printed lately. */
  get log(): string {
    return this.output.join("\n");
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const members = this.pids;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
    await this.exited;
    // workerd may outlive wrangler by a moment; the port is free only once every member is gone.
    const deadline = Date.now() + 10_000;
    while (members.some(isAlive) && Date.now() < deadline) await sleep(50);
    this.child = null;
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    while (Date.now() < deadline) {
      if (exited) throw new Error(`wrangler dev exited during start:\n${this.log}`);
      try {
        const res = await fetch(`${this.url}/v1/schemas`, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    if (child.pid) process.kill(-child.pid, "SIGKILL");
    throw new Error(`wrangler dev was not ready in time:\n${this.log}`);
  }
}

/** True while the process runs; a zombie (killed, not yet reaped) no longer holds its ports. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
