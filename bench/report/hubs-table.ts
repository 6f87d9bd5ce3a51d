import { SIDES } from "../lib/mesh-sides.ts";
import type { HubsPoint } from "../suites/hubs.ts";
import { formatValue } from "./format.ts";

/** Every configuration's sampled CPU by side per published event, and how much of workerd's CPU the samples cover. */
export function hubsDetails(points: HubsPoint[]): string {
  const sides = [...SIDES, "unattributed"] as const;
  const lines = [
    "CPU µs per published event by side (sampled in the mesh's isolate), Miniflare's entry worker (an isolate that forwards each request locally; not on Cloudflare), and the samples' total against workerd's process CPU over the same window (the rest ran outside the isolates: the runtime's socket and HTTP I/O, SQLite's disk writes, the profiler's own sampling).",
    "",
    `| configuration | subscribers | hubs | events | delivered | ${sides.join(" | ")} | Miniflare entry | sampled mesh + entry / process CPU (ms) |`,
    `|---|---:|---:|---:|---:|${sides.map(() => "---:").join("|")}|---:|---:|`,
  ];
  for (const p of points) {
    const perEvent = sides.map((side) => formatValue(p.cpuUs[side] / p.events));
    lines.push(
      `| ${p.config} | ${p.subscribers.toLocaleString("en-US")} | ${p.hubs} | ${p.events} | ${p.delivered.toLocaleString("en-US")} / ${p.expected.toLocaleString("en-US")} | ${perEvent.join(" | ")} | ${formatValue(p.entryUs / p.events)} | ${formatValue(p.sampledUs / 1000)} + ${formatValue(p.entryUs / 1000)} / ${formatValue(p.processUs / 1000)} |`,
    );
  }
  return lines.join("\n");
}
