import { join } from "node:path";
import type { NodePeer } from "../lib/context.ts";
import { startProcess, stopProcess } from "./processes.ts";

/** Starts one of the bench's Node peers (bundled beside the bench) and reads the port it prints. */
export async function startNodePeer(
  buildDir: string,
  script: string,
  args: string[] = [],
): Promise<NodePeer & { stop(): Promise<void> }> {
  const started = await startProcess(
    script,
    process.execPath,
    [join(buildDir, `${script}.mjs`), ...args],
    /^ready \d+/,
  );
  const line = started.output.find((l) => /^ready \d+/.test(l)) ?? "";
  const port = Number(line.split(" ")[1]);
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: started.child.pid ?? 0,
    stop: () => stopProcess(started),
  };
}
