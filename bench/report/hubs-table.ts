import { CEILING_SIDES } from "../lib/ceiling-sides.ts";
import { SIDES } from "../lib/mesh-sides.ts";
import type { CpuSide, HubsPoint } from "../suites/hubs.ts";
import { formatValue } from "./format.ts";

/** Every configuration's sampled CPU by side per published event, and how much of workerd's CPU the samples cover. */
export function hubsDetails(points: HubsPoint[]): string {
  // The mesh's sides, then the ceiling Worker's (its Worker shares the mesh's "worker" column).
  const sides: CpuSide[] = [...new Set<CpuSide>([...SIDES, ...CEILING_SIDES, "unattributed"])];
  const lines = [
    "CPU µs per published event by side (sampled in the isolate of the configuration's workerd: the mesh's sides with hubs, the relaying DO and the Worker forwarding to it in the contrast; – where a side does not exist), Miniflare's entry worker (an isolate that forwards each request locally; not on Cloudflare), and the samples' total against workerd's process CPU over the same window (the rest ran outside the isolates: the runtime's socket and HTTP I/O, SQLite's disk writes, the profiler's own sampling).",
    "",
    `| configuration | subscribers | hubs | events | delivered | ${sides.join(" | ")} | Miniflare entry | sampled isolate + entry / process CPU (ms) |`,
    `|---|---:|---:|---:|---:|${sides.map(() => "---:").join("|")}|---:|---:|`,
  ];
  for (const p of points) {
    const perEvent = sides.map((side) => {
      const us = p.cpuUs[side];
      return us === undefined ? "–" : formatValue(us / p.events);
    });
    lines.push(
      `| ${p.config} | ${p.subscribers.toLocaleString("en-US")} | ${p.hubs} | ${p.events}${p.failed ? ` (+ ${p.failed} failed)` : ""} | ${p.delivered.toLocaleString("en-US")} / ${p.expected.toLocaleString("en-US")} | ${perEvent.join(" | ")} | ${formatValue(p.entryUs / p.events)} | ${formatValue(p.sampledUs / 1000)} + ${formatValue(p.entryUs / 1000)} / ${formatValue(p.processUs / 1000)} |`,
    );
  }
  return lines.join("\n");
}
