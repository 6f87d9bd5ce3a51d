import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/loopback.mjs";
import { type Started, startProcess, stopProcess } from "./processes.ts";

export interface RedisServer {
  port: number;
  process: Started;
  stop(): Promise<void>;
}

/**
 * redis-server on 127.0.0.1 with its data in a temporary folder: append-only file on (fsync every
 * second, Redis's usual durable setting), no snapshots.
 */
export async function startRedis(binary: string): Promise<RedisServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-redis-"));
  const port = await freePort();
  const process = await startProcess(
    "redis-server",
    binary,
    [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      dataDir,
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--daemonize",
      "no",
    ],
    /Ready to accept connections/,
  );
  return {
    port,
    process,
    async stop() {
      await stopProcess(process);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
