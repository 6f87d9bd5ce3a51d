import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { subscribeFrameText } from "../../protocol/frames.ts";
import { freePort } from "../../scripts/loopback.mjs";
import { CEILING_SIDES, type CeilingSide, ceilingSides } from "../lib/ceiling-sides.ts";
import { type BenchContext, MESH_EVENT_TYPE, PAYLOAD_BYTES } from "../lib/context.ts";
import { type Attribution, attributeProfile, sampledCpuUs } from "../lib/cpu-attribution.ts";
import { type CpuProfile, IsolateProfiler } from "../lib/cpu-profile.ts";
import { eventText, nowMs, scheduledTimesOf } from "../lib/events.ts";
import { postOk } from "../lib/http.ts";
import { openLoop } from "../lib/load.ts";
import { bundleSides, SIDES, type Side } from "../lib/mesh-sides.ts";
import { processCpuUs } from "../lib/process-cpu.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { latencyHistogram, sleep } from "../lib/stats.ts";
import { Subscribers, waitFor } from "../lib/subscribers.ts";
import { type LocalWorker, startCeiling, startMesh } from "../setup/workers.ts";

/**
 * The two ways one topic's audience is held: every socket on one object (the bench-only relaying
 * Durable Object, as the mesh held them before hubs), or spread over the mesh's hubs.
 */
export type HubsConfig = "relaying DO" | "hubs";

/** What a profile's samples are attributed to: the mesh's sides, or the ceiling Worker's. */
export type CpuSide = Side | CeilingSide | "unattributed";

/** One configuration at one audience size: what the charts and the rows are made from. */
export interface HubsPoint {
  config: HubsConfig;
  subscribers: number;
  /** Publishes acknowledged (2xx); the per-event figures and `expected` count these. */
  events: number;
  /** Publishes that failed (e.g. a connection reset while the one object was seconds behind); not retried. */
  failed: number;
  delivered: number;
  expected: number;
  /** Distinct hubs that took the sockets (`x-mesh-hub` of the 101 answers); 0 for the relaying DO. */
  hubs: number;
  /** Sampled CPU time of the isolate by side, µs (the mesh's sides, or the relaying DO and its Worker). */
  cpuUs: Partial<Record<CpuSide, number>>;
  sampledUs: number;
  /** Sampled CPU time of Miniflare's entry worker, which forwards each request locally (not on Cloudflare), µs. */
  entryUs: number;
  /** workerd's process CPU time over the same window (all threads), µs: the cross-check. */
  processUs: number;
  publishMs: { p50: number; p99: number };
  receiveMs: { p50: number; p99: number };
}

/** One configuration's Worker: how to publish to its one topic, add subscribers and read a profile. */
interface Target {
  worker: LocalWorker;
  publish(due: number): Promise<unknown>;
  open(count: number): Promise<Subscribers>;
  attribute(profile: CpuProfile): Attribution<string>;
}

const RELAY = "relaying DO holding every socket (bench/ceiling)";
const HUB_HEADER = "x-mesh-hub";
/** The one topic (and the relaying DO's room) each configuration's audience follows. */
const TOPIC = "hubs";

/**
 * 7. One topic's audience on hubs against every socket on one object, measured as what carries
 * over to Cloudflare: each object's CPU time per event, from V8 profiles of workerd's isolate
 * attributed to sides by source (locally every object shares one thread, so deliveries/s cannot
 * grow with hubs here). The single-object contrast is the bench-only relaying Durable Object, on
 * its own workerd: the mesh's one-topic URL terminates on hubs too, so no mesh URL keeps a
 * topic's sockets on one object any more. Each configuration's audience grows through the sizes
 * (sockets are added, not reopened: connecting thousands is most of the suite's time), and at
 * each size a fixed-rate publish of single events is profiled until every copy arrived.
 */
export async function hubsSuite(ctx: BenchContext): Promise<{ rows: Row[]; points: HubsPoint[] }> {
  const points: HubsPoint[] = [];
  const vars = { HUB_MAX_SOCKETS: String(ctx.options.hubs.hubMaxSockets) };
  for (const config of ["relaying DO", "hubs"] as const)
    points.push(...(await runConfig(ctx, config, ctx.options.hubs.sizes, vars)));
  return { rows: hubsRows(points), points };
}

/**
 * One configuration on its own profiled workerd, its audience growing through `sizes`; `vars`
 * are the mesh's settings (the relaying DO has none).
 */
export async function runConfig(
  ctx: BenchContext,
  config: HubsConfig,
  sizes: number[],
  vars: Record<string, string>,
): Promise<HubsPoint[]> {
  const inspectorPort = await freePort();
  const worker = config === "hubs" ? await startMesh(vars, { inspectorPort }) : await startCeiling({ inspectorPort });
  const points: HubsPoint[] = [];
  const profilers: IsolateProfiler[] = [];
  const audience: Subscribers[] = [];
  try {
    const isolate = await IsolateProfiler.connect(inspectorPort, "core:user:bench");
    profilers.push(isolate);
    const entry = await IsolateProfiler.connect(inspectorPort, "core:entry");
    profilers.push(entry);
    const target = config === "hubs" ? meshTarget(ctx, worker) : relayTarget(ctx, worker);
    // The object starts (and the topic's first write happens) before anything is measured.
    await target.publish(nowMs());
    for (const subscribers of sizes) {
      const startedAt = nowMs();
      const more = subscribers - audience.reduce((sum, subs) => sum + subs.count, 0);
      audience.push(await target.open(more));
      ctx.log(`hubs: ${config}, ${more} more subscribers connected in ${((nowMs() - startedAt) / 1000).toFixed(1)} s`);
      const point = await measure(ctx, target, { isolate, entry }, config, audience);
      points.push(point);
      ctx.log(describe(point));
    }
  } finally {
    for (const subs of audience) await subs.close();
    for (const profiler of profilers) profiler.close();
    await worker.stop();
  }
  return points;
}

/**
 * The mesh: publishes to the topic, subscribers on `/v1/ws` with the topic as routing key, as an
 * app whose audience follows one topic would pass it: the audience fills one hub, then spreads to
 * more as hubs refuse for being full.
 */
function meshTarget(ctx: BenchContext, mesh: LocalWorker): Target {
  const sideOfLine = bundleSides(readFileSync(mesh.scriptPath, "utf8"));
  return {
    worker: mesh,
    publish: (due) =>
      postOk(
        `${mesh.url}/v1/topics/${TOPIC}/events`,
        { ...mesh.headers, "content-type": MESH_EVENT_TYPE },
        eventText(PAYLOAD_BYTES, due),
      ),
    open: (count) =>
      Subscribers.open(`${mesh.wsUrl}/v1/ws?token=${mesh.token}&key=${TOPIC}`, count, /"caught-up"/, {
        acks: true,
        greeting: subscribeFrameText({ topic: TOPIC, after: 0 }),
        header: HUB_HEADER,
        timeoutMs: ctx.options.hubs.openTimeoutSeconds * 1000,
      }),
    attribute: (profile) => attributeProfile(profile, basename(mesh.scriptPath), SIDES, sideOfLine),
  };
}

/** The relaying DO: every socket and every publish of one room go to one object, which sends each POST to them all. */
function relayTarget(ctx: BenchContext, ceiling: LocalWorker): Target {
  const sideOfLine = ceilingSides(readFileSync(ceiling.scriptPath, "utf8"));
  return {
    worker: ceiling,
    publish: (due) => postOk(`${ceiling.url}/room/${TOPIC}`, {}, eventText(PAYLOAD_BYTES, due)),
    open: (count) =>
      Subscribers.open(`${ceiling.wsUrl}/room/${TOPIC}`, count, /"ready"/, {
        timeoutMs: ctx.options.hubs.openTimeoutSeconds * 1000,
      }),
    attribute: (profile) => attributeProfile(profile, basename(ceiling.scriptPath), CEILING_SIDES, sideOfLine),
  };
}

async function measure(
  ctx: BenchContext,
  target: Target,
  profilers: { isolate: IsolateProfiler; entry: IsolateProfiler },
  config: HubsConfig,
  audience: Subscribers[],
): Promise<HubsPoint> {
  const o = ctx.options.hubs;
  const subscribers = audience.reduce((sum, subs) => sum + subs.count, 0);
  // Connecting is not what is measured: let its last acks and bookkeeping finish.
  await sleep(o.settleMs);
  const received = latencyHistogram();
  const published = latencyHistogram();
  let delivered = 0;
  const onMessage = (text: string) => {
    if (!text.startsWith('{"type":"event')) return;
    const now = nowMs();
    for (const due of scheduledTimesOf(text)) {
      received.recordValue(Math.max(1, Math.round((now - due) * 1000)));
      delivered += 1;
    }
  };
  for (const subs of audience) subs.onMessage = onMessage;
  const pids = target.worker.workerdPids;
  // Process CPU is read inside the profiled window: starting and stopping the profiler (which
  // serializes the profile in workerd) stay out of it.
  await profilers.isolate.start();
  await profilers.entry.start();
  const cpuBefore = pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
  const sent = await openLoop(o.rate, o.seconds, async (due) => {
    await target.publish(due);
    published.recordValue(Math.max(1, Math.round((nowMs() - due) * 1000)));
  });
  const events = sent.scheduled.length - sent.errors;
  const expected = events * subscribers;
  await waitFor(() => delivered >= expected, o.drainSeconds * 1000);
  const processUs = pids.reduce((sum, pid) => sum + processCpuUs(pid), 0) - cpuBefore;
  const profile = await profilers.isolate.stop();
  const entryUs = sampledCpuUs(await profilers.entry.stop());
  for (const subs of audience) subs.onMessage = () => {};
  // A failed publish is a figure of the configuration, not a harness fault: reported, not thrown.
  if (sent.errors > 0) ctx.log(`hubs: ${config}, ${sent.errors} publishes failed, first: ${sent.firstError}`);
  const { us, sampledUs } = target.attribute(profile);
  const ms = (h: typeof received, p: number) => h.getValueAtPercentile(p) / 1000;
  const point: HubsPoint = {
    config,
    subscribers,
    events,
    failed: sent.errors,
    delivered,
    expected,
    hubs: new Set(audience.flatMap((subs) => subs.headerValues)).size,
    cpuUs: us,
    sampledUs,
    entryUs,
    processUs,
    publishMs: { p50: ms(published, 50), p99: ms(published, 99) },
    receiveMs: { p50: ms(received, 50), p99: ms(received, 99) },
  };
  received.destroy();
  published.destroy();
  return point;
}

const cpu = (p: HubsPoint, side: CpuSide) => p.cpuUs[side] ?? 0;
/**
 * JS CPU per published event on the object every publish goes to: the mesh's topic object (what
 * must stay flat as the audience grows), or the relaying DO, which also holds every socket.
 */
export const topicUsPerEvent = (p: HubsPoint) => cpu(p, p.config === "hubs" ? "topic" : "relaying DO") / p.events;
/** JS CPU per delivered copy on the objects that hold the sockets: the hubs, or the relaying DO. */
export const holderUsPerDelivery = (p: HubsPoint) =>
  cpu(p, p.config === "hubs" ? "hub" : "relaying DO") / Math.max(1, p.delivered);
/**
 * workerd's CPU outside the isolates (process CPU less both profiles) per delivered copy: mostly
 * the runtime writing each frame to its socket and reading the acks, so it goes with the objects
 * that hold the sockets (hubs, or the relaying DO). The publishes' own HTTP and SQLite I/O is in
 * it too (small next to thousands of copies per event).
 */
export const outsideUsPerDelivery = (p: HubsPoint) =>
  Math.max(0, p.processUs - p.sampledUs - p.entryUs) / Math.max(1, p.delivered);
const unattributedShare = (p: HubsPoint) => cpu(p, "unattributed") / Math.max(1, p.sampledUs);
const workerUsPerEvent = (p: HubsPoint) => cpu(p, "worker") / p.events;

function describe(p: HubsPoint): string {
  const r = (v: number) => Math.round(v).toLocaleString("en-US");
  const holder = p.config === "hubs" ? `on ${p.hubs} hub(s)` : "on one relaying DO";
  const publishObject = p.config === "hubs" ? "topic object" : "relaying DO";
  return `hubs: ${p.subscribers} subscribers ${holder}: ${publishObject} ${r(topicUsPerEvent(p))} µs/event, ${holderUsPerDelivery(p).toFixed(1)} µs/delivery on the socket holder, ${outsideUsPerDelivery(p).toFixed(1)} µs/delivery outside the isolate, worker ${r(workerUsPerEvent(p))} µs/event, unattributed ${(100 * unattributedShare(p)).toFixed(0)} %, sampled ${r(p.sampledUs / 1000)} ms (+ ${r(p.entryUs / 1000)} ms Miniflare entry) of ${r(p.processUs / 1000)} ms process CPU; publish p50 ${p.publishMs.p50.toFixed(1)} ms, receive p50 ${p.receiveMs.p50.toFixed(1)} / p99 ${p.receiveMs.p99.toFixed(1)} ms; delivered ${p.delivered}/${p.expected}${p.failed > 0 ? `, ${p.failed} failed publishes` : ""}`;
}

/** Per size, hubs (the mesh column) against the relaying DO holding every socket (the peer column). */
function hubsRows(points: HubsPoint[]): Row[] {
  const rows: Row[] = [];
  const sizes = [...new Set(points.map((p) => p.subscribers))];
  for (const n of sizes) {
    const a = points.find((p) => p.subscribers === n && p.config === "relaying DO");
    const b = points.find((p) => p.subscribers === n && p.config === "hubs");
    if (!a || !b) continue;
    const row = (measure: string, unit: string, better: Row["better"], value: (p: HubsPoint) => number) =>
      makeRow({ section: "hubs", measure: `${measure}, ${n} subscribers`, unit, better }, [value(b)], RELAY, [
        value(a),
      ]);
    rows.push(
      row(
        "JS CPU per published event on the object publishes go to (topic object / relaying DO)",
        "µs",
        "lower",
        topicUsPerEvent,
      ),
      row("JS CPU per delivered copy on the sockets' holder (hub / relaying DO)", "µs", "lower", holderUsPerDelivery),
      row("runtime CPU outside the isolate per delivered copy", "µs", "lower", outsideUsPerDelivery),
      row("Worker JS CPU per published event", "µs", "lower", workerUsPerEvent),
      row("publish p50 (POST → 201)", "ms", "lower", (p) => p.publishMs.p50),
      row("publish p99 (POST → 201)", "ms", "lower", (p) => p.publishMs.p99),
      row("publish → receive p50", "ms", "lower", (p) => p.receiveMs.p50),
      row("publish → receive p99", "ms", "lower", (p) => p.receiveMs.p99),
      row("delivered ratio (copies of acknowledged publishes)", "ratio", "higher", (p) => p.delivered / p.expected),
      row("failed publishes", "publishes", "lower", (p) => p.failed),
      row("hubs used", "hubs", "lower", (p) => p.hubs),
      row("unattributed share of sampled CPU", "share", "lower", unattributedShare),
      row(
        "sampled CPU of the isolate / workerd process CPU",
        "share",
        "higher",
        (p) => p.sampledUs / Math.max(1, p.processUs),
      ),
    );
  }
  return rows;
}
