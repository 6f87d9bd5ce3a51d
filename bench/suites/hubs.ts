import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { subscribeFrameText } from "../../protocol/frames.ts";
import { freePort } from "../../scripts/loopback.mjs";
import { type BenchContext, MESH_EVENT_TYPE, PAYLOAD_BYTES } from "../lib/context.ts";
import { type Attribution, attributeProfile, sampledCpuUs } from "../lib/cpu-attribution.ts";
import { type CpuProfile, IsolateProfiler } from "../lib/cpu-profile.ts";
import { eventText, nowMs, scheduledTimesOf } from "../lib/events.ts";
import { postOk } from "../lib/http.ts";
import { openLoop } from "../lib/load.ts";
import { bundleSides, type Side } from "../lib/mesh-sides.ts";
import { processCpuUs } from "../lib/process-cpu.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { latencyHistogram, sleep } from "../lib/stats.ts";
import { Subscribers, waitFor } from "../lib/subscribers.ts";
import { type LocalWorker, startMesh } from "../setup/workers.ts";

/** The two ways one topic's audience is held: all on the topic's object, or spread over hubs. */
export type HubsConfig = "one-topic URL" | "hubs";

/** One configuration at one audience size: what the chart and the rows are made from. */
export interface HubsPoint {
  config: HubsConfig;
  subscribers: number;
  events: number;
  delivered: number;
  expected: number;
  /** Distinct hubs that took the sockets (`x-mesh-hub` of the 101 answers); 0 on the one-topic URL. */
  hubs: number;
  /** Sampled CPU time of the mesh's isolate by side, µs. */
  cpuUs: Attribution["us"];
  sampledUs: number;
  /** Sampled CPU time of Miniflare's entry worker, which forwards each request locally (not on Cloudflare), µs. */
  entryUs: number;
  /** workerd's process CPU time over the same window (all threads), µs: the cross-check. */
  processUs: number;
  publishMs: { p50: number; p99: number };
  receiveMs: { p50: number; p99: number };
}

const ONE_TOPIC = "one-topic URL (all sockets on the topic object)";
const HUB_HEADER = "x-mesh-hub";

/**
 * 7. One topic's audience on hubs against all on the topic's object, measured as what carries
 * over to Cloudflare: each object's CPU time per event, from V8 profiles of workerd's isolate
 * attributed to sides by source file (locally every object shares one thread, so deliveries/s
 * cannot grow with hubs here). Each configuration's audience grows on its own topic through the
 * sizes (sockets are added, not reopened: connecting thousands is most of the suite's time), and
 * at each size a fixed-rate publish of single events is profiled until every copy arrived.
 */
export async function hubsSuite(ctx: BenchContext): Promise<{ rows: Row[]; points: HubsPoint[] }> {
  const o = ctx.options.hubs;
  const inspectorPort = await freePort();
  const mesh = await startMesh({ HUB_MAX_SOCKETS: String(o.hubMaxSockets) }, { inspectorPort });
  const points: HubsPoint[] = [];
  const profilers: IsolateProfiler[] = [];
  try {
    const profiler = await IsolateProfiler.connect(inspectorPort, "core:user:bench");
    profilers.push(profiler);
    const entry = await IsolateProfiler.connect(inspectorPort, "core:entry");
    profilers.push(entry);
    const sideOfLine = bundleSides(readFileSync(mesh.scriptPath, "utf8"));
    const attribute = (profile: CpuProfile) => attributeProfile(profile, basename(mesh.scriptPath), sideOfLine);
    for (const config of ["one-topic URL", "hubs"] as const) {
      const topic = `hubs-${config === "hubs" ? "b" : "a"}`;
      const publish = (due: number) =>
        postOk(
          `${mesh.url}/v1/topics/${topic}/events`,
          { ...mesh.headers, "content-type": MESH_EVENT_TYPE },
          eventText(PAYLOAD_BYTES, due),
        );
      // The topic's object starts, and its first write happens, before anything is measured.
      await publish(nowMs());
      const audience: Subscribers[] = [];
      try {
        for (const subscribers of o.sizes) {
          const startedAt = nowMs();
          const more = subscribers - audience.reduce((sum, subs) => sum + subs.count, 0);
          audience.push(await openAudience(ctx, mesh, config, topic, more));
          ctx.log(
            `hubs: ${config}, ${more} more subscribers connected in ${((nowMs() - startedAt) / 1000).toFixed(1)} s`,
          );
          const point = await measure(ctx, mesh, { mesh: profiler, entry }, attribute, config, audience, publish);
          points.push(point);
          ctx.log(describe(point));
        }
      } finally {
        for (const subs of audience) await subs.close();
        // The closes reach the objects after the clients see them: let them land before the next configuration.
        await sleep(o.settleMs);
      }
    }
  } finally {
    for (const profiler of profilers) profiler.close();
    await mesh.stop();
  }
  return { rows: hubsRows(points), points };
}

/** `count` more subscribers of `topic`, on hubs or on the topic's own object. */
function openAudience(
  ctx: BenchContext,
  mesh: LocalWorker,
  config: HubsConfig,
  topic: string,
  count: number,
): Promise<Subscribers> {
  const timeoutMs = ctx.options.hubs.openTimeoutSeconds * 1000;
  if (config === "one-topic URL") {
    // The header too: should this URL's sockets ever land on hubs, "hubs used" shows it.
    return Subscribers.open(`${mesh.wsUrl}/v1/topics/${topic}/ws?token=${mesh.token}`, count, /"caught-up"/, {
      acks: true,
      header: HUB_HEADER,
      timeoutMs,
    });
  }
  // The topic as routing key, as an app whose audience follows one topic would pass it: the
  // audience fills one hub, then spreads to more as hubs refuse for being full.
  return Subscribers.open(`${mesh.wsUrl}/v1/ws?token=${mesh.token}&key=${topic}`, count, /"caught-up"/, {
    acks: true,
    greeting: subscribeFrameText({ topic, after: 0 }),
    header: HUB_HEADER,
    timeoutMs,
  });
}

async function measure(
  ctx: BenchContext,
  mesh: LocalWorker,
  profilers: { mesh: IsolateProfiler; entry: IsolateProfiler },
  attribute: (profile: CpuProfile) => Attribution,
  config: HubsConfig,
  audience: Subscribers[],
  publish: (due: number) => Promise<unknown>,
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
  const pids = mesh.workerdPids;
  // Process CPU is read inside the profiled window: starting and stopping the profiler (which
  // serializes the profile in workerd) stay out of it.
  await profilers.mesh.start();
  await profilers.entry.start();
  const cpuBefore = pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
  const sent = await openLoop(o.rate, o.seconds, async (due) => {
    await publish(due);
    published.recordValue(Math.max(1, Math.round((nowMs() - due) * 1000)));
  });
  const expected = sent.scheduled.length * subscribers;
  if (sent.errors === 0) await waitFor(() => delivered >= expected, o.drainSeconds * 1000);
  const processUs = pids.reduce((sum, pid) => sum + processCpuUs(pid), 0) - cpuBefore;
  const profile = await profilers.mesh.stop();
  const entryUs = sampledCpuUs(await profilers.entry.stop());
  for (const subs of audience) subs.onMessage = () => {};
  if (sent.errors > 0) throw new Error(`${sent.errors} publishes failed, first: ${sent.firstError}`);
  const { us, sampledUs } = attribute(profile);
  const ms = (h: typeof received, p: number) => h.getValueAtPercentile(p) / 1000;
  const point: HubsPoint = {
    config,
    subscribers,
    events: sent.scheduled.length,
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

/** Topic-side CPU per published event: what must stay flat as the audience grows. */
export const topicUsPerEvent = (p: HubsPoint) => p.cpuUs.topic / p.events;
/** JS CPU per delivered copy on the object that holds the sockets: the hub, or the topic itself. */
export const holderUsPerDelivery = (p: HubsPoint) =>
  (p.config === "hubs" ? p.cpuUs.hub : p.cpuUs.topic) / Math.max(1, p.delivered);
/**
 * workerd's CPU outside the isolates (process CPU less both profiles) per delivered copy: mostly
 * the runtime writing each frame to its socket and reading the acks, so it goes with the object
 * that holds the sockets. The publishes' own HTTP and SQLite I/O is in it too (small next to
 * thousands of copies per event).
 */
export const outsideUsPerDelivery = (p: HubsPoint) =>
  Math.max(0, p.processUs - p.sampledUs - p.entryUs) / Math.max(1, p.delivered);
const unattributedShare = (p: HubsPoint) => p.cpuUs.unattributed / Math.max(1, p.sampledUs);
const usPerEvent = (p: HubsPoint, side: Side | "unattributed") => p.cpuUs[side] / p.events;

function describe(p: HubsPoint): string {
  const r = (v: number) => Math.round(v).toLocaleString("en-US");
  return `hubs: ${p.config}, ${p.subscribers} subscribers${p.config === "hubs" ? ` on ${p.hubs} hub(s)` : ""}: topic ${r(topicUsPerEvent(p))} µs/event, hub ${r(usPerEvent(p, "hub"))} µs/event (${holderUsPerDelivery(p).toFixed(1)} µs/delivery on the socket holder, ${outsideUsPerDelivery(p).toFixed(1)} µs/delivery outside the isolate), worker ${r(usPerEvent(p, "worker"))}, unattributed ${(100 * unattributedShare(p)).toFixed(0)} %, sampled ${r(p.sampledUs / 1000)} ms (+ ${r(p.entryUs / 1000)} ms Miniflare entry) of ${r(p.processUs / 1000)} ms process CPU; publish p50 ${p.publishMs.p50.toFixed(1)} ms, receive p50 ${p.receiveMs.p50.toFixed(1)} / p99 ${p.receiveMs.p99.toFixed(1)} ms; delivered ${p.delivered}/${p.expected}`;
}

/** Per size, hubs (the mesh column) against the one-topic URL (the peer column). */
function hubsRows(points: HubsPoint[]): Row[] {
  const rows: Row[] = [];
  const sizes = [...new Set(points.map((p) => p.subscribers))];
  for (const n of sizes) {
    const a = points.find((p) => p.subscribers === n && p.config === "one-topic URL");
    const b = points.find((p) => p.subscribers === n && p.config === "hubs");
    if (!a || !b) continue;
    const row = (measure: string, unit: string, better: Row["better"], value: (p: HubsPoint) => number) =>
      makeRow({ section: "hubs", measure: `${measure}, ${n} subscribers`, unit, better }, [value(b)], ONE_TOPIC, [
        value(a),
      ]);
    rows.push(
      row("topic object JS CPU per published event", "µs", "lower", topicUsPerEvent),
      row("socket holder JS CPU per delivered event (hub / topic object)", "µs", "lower", holderUsPerDelivery),
      row("runtime CPU outside the isolate per delivered event", "µs", "lower", outsideUsPerDelivery),
      row("Worker JS CPU per published event", "µs", "lower", (p) => usPerEvent(p, "worker")),
      row("publish p50 (POST → 201)", "ms", "lower", (p) => p.publishMs.p50),
      row("publish p99 (POST → 201)", "ms", "lower", (p) => p.publishMs.p99),
      row("publish → receive p50", "ms", "lower", (p) => p.receiveMs.p50),
      row("publish → receive p99", "ms", "lower", (p) => p.receiveMs.p99),
      row("delivered ratio", "ratio", "higher", (p) => p.delivered / p.expected),
      row("hubs used", "hubs", "lower", (p) => p.hubs),
      row("unattributed share of sampled CPU", "share", "lower", unattributedShare),
      row(
        "sampled CPU of the mesh's isolate / workerd process CPU",
        "share",
        "higher",
        (p) => p.sampledUs / Math.max(1, p.processUs),
      ),
    );
  }
  return rows;
}
