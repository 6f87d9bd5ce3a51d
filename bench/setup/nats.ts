import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/loopback.mjs";
import { type Started, startProcess, stopProcess } from "./processes.ts";

export interface NatsServer {
  url: string;
  process: Started;
  stop(): Promise<void>;
}

/** nats-server with JetStream, file storage in a temporary folder, on 127.0.0.1 only. */
export async function startNats(binary: string): Promise<NatsServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-nats-"));
  const port = await freePort();
  const process = await startProcess(
    "nats-server",
    binary,
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dataDir],
    /Server is ready/,
  );
  return {
    url: `127.0.0.1:${port}`,
    process,
    async stop() {
      await stopProcess(process);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
