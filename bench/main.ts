import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Redis from "ioredis";
import { connect } from "nats";
import type { BenchContext } from "./lib/context.ts";
import { closeHttp } from "./lib/http.ts";
import type { Row } from "./lib/rows.ts";
import { parseOptions } from "./options.ts";
import type { BenchResults } from "./report/results.ts";
import { textTable } from "./report/table.ts";
import { writeReport } from "./report/write.ts";
import { startNats } from "./setup/nats.ts";
import { startNodePeer } from "./setup/node-peers.ts";
import { startRedis } from "./setup/redis.ts";
import { ensureServers, versionOf } from "./setup/system-packages.ts";
import { startCeiling, startMesh } from "./setup/workers.ts";
import { catchupSuite } from "./suites/catchup.ts";
import { deliverySuite } from "./suites/delivery.ts";
import { fanoutSuite } from "./suites/fanout.ts";
import { type HubsPoint, hubsSuite } from "./suites/hubs.ts";
import { pushCostSuite } from "./suites/hubs-push-cost.ts";
import { type LatencySeries, latencySuite } from "./suites/latency.ts";
import { memorySuite } from "./suites/memory.ts";
import { presenceSuite } from "./suites/presence.ts";
import { throughputSuite } from "./suites/throughput.ts";

// The launcher runs this from the repository root (wrangler.toml is read from there).
const buildDir = dirname(fileURLToPath(import.meta.url));
const options = parseOptions(process.argv.slice(2), join("bench", "results"), join("bench", "results", "tmp"));
const startedAt = Date.now();
const log = (line: string) =>
  console.log(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${line}`);

/** Everything started, stopped in reverse order whatever happens. */
const stops: { name: string; stop: () => Promise<unknown> }[] = [];
let stopping: Promise<void> | null = null;
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        console.error(`stopping ${name} failed: ${String(err)}`);
      }
    }
    closeHttp();
  })();
  return stopping;
}

// A last bound on the whole run, beyond each loop's own: stop everything and fail.
const WATCHDOG_MS = (options.quick ? 4 : 20) * 60_000;
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60_000} minutes; stopping everything`);
  void stopAll().then(() => process.exit(1));
}, WATCHDOG_MS);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void stopAll().then(() => process.exit(130)));
}

/** The commit the mesh is bundled from; `dirty` when mesh sources differ from it. */
function sourceState(): { commit: string; dirty: boolean } {
  const git = (args: string[]) => spawnSync("git", args, { encoding: "utf8" });
  const commit = git(["rev-parse", "HEAD"]).stdout.trim() || "unknown";
  const status = git(["status", "--porcelain", "--", "worker", "durable-objects", "protocol", "wrangler.toml"]);
  return { commit, dirty: status.stdout.trim().length > 0 };
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join("node_modules", name, "package.json"), "utf8")) as { version: string })
      .version;
  } catch {
    return "unknown";
  }
}

/** `YYYY-MM-DD`, with `-2`, `-3` … when a run of that day is already there. */
function resultName(outDir: string): string {
  const day = new Date().toISOString().slice(0, 10);
  let name = day;
  for (let n = 2; existsSync(join(outDir, `${name}.json`)); n++) name = `${day}-${n}`;
  return name;
}

async function main(): Promise<void> {
  // Read before the mesh is bundled, so it names the code that was measured.
  const source = sourceState();
  log(
    `${options.quick ? "quick smoke run" : "full run"} of ${options.suites.join(", ")}; results go to ${options.outDir}`,
  );
  const servers = ensureServers(log);
  const natsServer = await startNats(servers.nats);
  stops.push({ name: "nats-server", stop: () => natsServer.stop() });
  const redisServer = await startRedis(servers.redis);
  stops.push({ name: "redis-server", stop: () => redisServer.stop() });
  const broadcaster = await startNodePeer(buildDir, "ws-broadcaster");
  stops.push({ name: "ws broadcaster", stop: () => broadcaster.stop() });
  const mesh = await startMesh();
  stops.push({ name: "mesh", stop: () => mesh.stop() });
  const ceiling = await startCeiling();
  stops.push({ name: "ceiling worker", stop: () => ceiling.stop() });
  const nats = await connect({ servers: natsServer.url });
  stops.push({ name: "nats client", stop: () => nats.close() });
  const redis = new Redis({ host: "127.0.0.1", port: redisServer.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  stops.push({ name: "redis client", stop: async () => redis.disconnect() });
  log(`started nats-server, redis-server, ws broadcaster, mesh (${mesh.url}) and ceiling worker (${ceiling.url})`);

  const ctx: BenchContext = {
    options,
    mesh,
    ceiling,
    nats,
    natsUrl: natsServer.url,
    redis,
    broadcaster,
    startBroadcaster: () => startNodePeer(buildDir, "ws-broadcaster"),
    startBridge: async (stream) => startNodePeer(buildDir, "jetstream-bridge", [natsServer.url, stream]),
    log,
  };

  const rows: Row[] = [];
  const run = options.suites;
  if (run.includes("throughput")) rows.push(...(await throughputSuite(ctx)));
  const latency: { rows: Row[]; series: LatencySeries[] } = run.includes("latency")
    ? await latencySuite(ctx)
    : { rows: [], series: [] };
  rows.push(...latency.rows);
  if (run.includes("fanout")) rows.push(...(await fanoutSuite(ctx)));
  if (run.includes("catchup")) rows.push(...(await catchupSuite(ctx)));
  if (run.includes("memory")) rows.push(...(await memorySuite(ctx)));
  if (run.includes("delivery")) rows.push(...(await deliverySuite(ctx)));
  const hubs: { rows: Row[]; points: HubsPoint[] } = run.includes("hubs")
    ? await hubsSuite(ctx)
    : { rows: [], points: [] };
  rows.push(...hubs.rows);
  if (run.includes("hubs")) rows.push(...(await pushCostSuite(ctx)));
  if (run.includes("presence")) rows.push(...(await presenceSuite(ctx)));

  mkdirSync(options.outDir, { recursive: true });
  const name = resultName(options.outDir);
  const { outDir: _outDir, report: _report, ...settings } = options;
  const cpu = cpus();
  const results: BenchResults = {
    name,
    date: new Date().toISOString(),
    quick: options.quick,
    durationSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${process.platform} ${release()}`,
      node: process.version,
      wrangler: packageVersion("wrangler"),
      workerd: packageVersion("workerd"),
      natsServer: versionOf(servers.nats),
      redisServer: versionOf(servers.redis),
    },
    source,
    settings,
    rows,
    latency: latency.series,
    hubs: hubs.points,
  };
  const files = writeReport(results, options.outDir);

  console.log(`\n${textTable(rows)}\n`);
  log(`wrote ${files.map((f) => join(options.outDir, f)).join(", ")}`);
}

/** `--report FILE`: writes the Markdown report and charts of an existing results file again. */
function rewriteReport(file: string): void {
  const results = JSON.parse(readFileSync(file, "utf8")) as BenchResults;
  const files = writeReport(results, dirname(file));
  console.log(`\n${textTable(results.rows)}\n`);
  log(`wrote ${files.map((f) => join(dirname(file), f)).join(", ")}`);
}

let exitCode = 0;
try {
  if (options.report) rewriteReport(options.report);
  else await main();
} catch (err) {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  exitCode = 1;
} finally {
  await stopAll();
  clearTimeout(watchdog);
}
log(`done in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
process.exit(exitCode);
