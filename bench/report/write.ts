import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hubsCharts } from "./hubs-chart.ts";
import { markdownReport } from "./markdown.ts";
import type { BenchResults } from "./results.ts";
import { latencyChartSvg } from "./svg.ts";

/**
 * The newest run before `results` of the same kind (full or quick), for the before/after section;
 * measures either run lacks (a suite added since) are left out of the comparison.
 */
function previousResults(outDir: string, results: BenchResults): BenchResults | null {
  const earlier = readdirSync(outDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      try {
        return JSON.parse(readFileSync(join(outDir, f), "utf8")) as BenchResults;
      } catch {
        return null;
      }
    })
    .filter(
      (r): r is BenchResults =>
        r !== null && r.quick === results.quick && Array.isArray(r.rows) && r.date < results.date,
    );
  earlier.sort((a, b) => a.date.localeCompare(b.date));
  return earlier.at(-1) ?? null;
}

/** Writes `<name>.json`, `<name>.md`, one latency chart per rate and the hubs charts into `outDir`. */
export function writeReport(results: BenchResults, outDir: string): string[] {
  const rates = [...new Set(results.latency.map((s) => s.rate))];
  const charts = rates.map((rate) => ({ rate, file: `${results.name}-latency-${rate}.svg` }));
  for (const chart of charts) {
    const series = results.latency
      .filter((s) => s.rate === chart.rate)
      .map((s) => ({ name: s.target, points: s.points }));
    const title = `publish → WebSocket receive at ${chart.rate} events/s, ${results.settings.latency.subscribers} subscribers`;
    writeFileSync(join(outDir, chart.file), latencyChartSvg(title, series));
  }
  // Results written before the hubs suite existed have no `hubs`.
  const hubsFiles: { file: string; alt: string }[] = [];
  for (const chart of (results.hubs ?? []).length > 0 ? hubsCharts(results.hubs) : []) {
    const file = `${results.name}-${chart.suffix}.svg`;
    writeFileSync(join(outDir, file), chart.svg);
    hubsFiles.push({ file, alt: chart.alt });
  }
  const previous = existsSync(outDir) ? previousResults(outDir, results) : null;
  writeFileSync(join(outDir, `${results.name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, `${results.name}.md`), markdownReport(results, charts, hubsFiles, previous));
  return [`${results.name}.json`, `${results.name}.md`, ...charts.map((c) => c.file), ...hubsFiles.map((c) => c.file)];
}
