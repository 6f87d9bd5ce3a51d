import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { Row } from "../../bench/lib/rows.ts";
import { RESULT_KEYS } from "../../bench/report/results.ts";

const outDir = mkdtempSync(join(tmpdir(), "bench-smoke-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** Runs `npm run bench -- --quick` into a temporary folder; resolves with its exit code and output. */
function runQuickBench(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bench/run.mjs", "--quick", "--out", outDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("exit", (code) => resolve({ code, output }));
  });
}

// Checks that the harness works end to end (servers, peers, every suite, every output file), never
// how fast anything is: performance is only measured by `npm run bench`.
it("runs the quick bench and writes results, report and charts", { timeout: 300_000 }, async () => {
  const { code, output } = await runQuickBench();
  expect(code, output.slice(-4000)).toBe(0);

  const files = readdirSync(outDir);
  const jsonFile = files.find((f) => f.endsWith(".json"));
  expect(jsonFile, files.join(", ")).toBeDefined();
  const results = JSON.parse(readFileSync(join(outDir, jsonFile as string), "utf8")) as Record<string, unknown>;
  for (const key of RESULT_KEYS) expect(results).toHaveProperty(key);
  expect(results.quick).toBe(true);

  const rows = results.rows as Row[];
  expect(new Set(rows.map((r) => r.section))).toEqual(
    new Set(["throughput", "latency", "fanout", "catchup", "memory", "delivery", "hubs", "presence"]),
  );
  for (const row of rows) {
    expect(Number.isFinite(row.mesh), row.measure).toBe(true);
    expect(Number.isFinite(row.peerValue), row.measure).toBe(true);
    expect(row.peer.length).toBeGreaterThan(0);
    expect(row.meshRuns.length).toBeGreaterThan(0);
  }
  // Delivery is behaviour, not speed: every subscriber gets every event.
  const delivered = rows.filter((r) => (r.section === "fanout" || r.section === "hubs") && r.unit === "ratio");
  expect(delivered.length).toBeGreaterThan(0);
  for (const row of delivered) expect(row.mesh, row.measure).toBe(1);

  const name = (jsonFile as string).replace(/\.json$/, "");
  const report = readFileSync(join(outDir, `${name}.md`), "utf8");
  const chart = files.find((f) => f.endsWith(".svg"));
  expect(chart).toBeDefined();
  expect(report).toContain(`](${chart})`);
  expect(readFileSync(join(outDir, chart as string), "utf8")).toMatch(/^<svg [^>]*>[\s\S]*<path [\s\S]*<\/svg>\n$/);
});
