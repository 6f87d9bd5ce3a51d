import type { Histogram } from "hdr-histogram-js";
import { StorageType } from "nats";
import { type BenchContext, MESH_EVENT_TYPE, PAYLOAD_BYTES } from "../lib/context.ts";
import { eventText, makeEvent, nowMs, scheduledKey, scheduledTimeOf } from "../lib/events.ts";
import { postOk } from "../lib/http.ts";
import { openLoop } from "../lib/load.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { latencyHistogram, median } from "../lib/stats.ts";
import { Subscribers, waitFor } from "../lib/subscribers.ts";

/** Percentiles drawn in the latency charts (HDR style: the tail gets the room). */
export const CHART_PERCENTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];

export interface LatencySeries {
  target: string;
  rate: number;
  /** All repetitions merged. */
  points: { percentile: number; ms: number }[];
  delivered: number;
  expected: number;
  /** Publishes that failed (their copies count as missing). */
  sendErrors: number;
}

interface Target {
  name: string;
  open(count: number): Promise<Subscribers>;
  send(scheduledMs: number): Promise<void>;
}

const REPORTED = [
  { label: "p50", percentile: 50 },
  { label: "p99", percentile: 99 },
  { label: "p99.9", percentile: 99.9 },
];

/**
 * 2. End-to-end latency publish → WebSocket receive, at fixed rates to many subscribers, from
 * each event's scheduled send time. Peers: a plain Node ws broadcaster (no persistence: the floor)
 * and JetStream acked publish followed by a WebSocket bridge.
 */
export async function latencySuite(ctx: BenchContext): Promise<{ rows: Row[]; series: LatencySeries[] }> {
  const o = ctx.options.latency;
  const jsm = await ctx.nats.jetstreamManager();
  await jsm.streams.add({ name: "LAT", subjects: ["lat.>"], storage: StorageType.File });
  const js = ctx.nats.jetstream();
  const encoder = new TextEncoder();
  const bridge = await ctx.startBridge("LAT");

  const targets: Target[] = [
    {
      name: "mesh",
      open: (n) =>
        Subscribers.open(`${ctx.mesh.wsUrl}/v1/topics/lat/ws?token=${ctx.mesh.token}`, n, /"caught-up"/, {
          acks: true,
        }),
      send: async (due) => {
        await postOk(
          `${ctx.mesh.url}/v1/topics/lat/events`,
          { ...ctx.mesh.headers, "content-type": MESH_EVENT_TYPE },
          eventText(PAYLOAD_BYTES, due),
        );
      },
    },
    {
      name: "DO relay without storage (runtime floor)",
      open: (n) => Subscribers.open(`${ctx.ceiling.wsUrl}/room/lat`, n, /"ready"/),
      send: async (due) => {
        await postOk(`${ctx.ceiling.url}/room/lat`, {}, eventText(PAYLOAD_BYTES, due));
      },
    },
    {
      name: "DO relay storing each event before it sends",
      open: (n) => Subscribers.open(`${ctx.ceiling.wsUrl}/room/lat-stored`, n, /"ready"/),
      send: async (due) => {
        await postOk(`${ctx.ceiling.url}/room/lat-stored?store`, {}, eventText(PAYLOAD_BYTES, due));
      },
    },
    {
      name: "DO storing each event, relayed by a second DO (the hub path's floor)",
      open: (n) => Subscribers.open(`${ctx.ceiling.wsUrl}/room/lat-hop`, n, /"ready"/),
      send: async (due) => {
        await postOk(`${ctx.ceiling.url}/origin/room/lat-hop`, {}, eventText(PAYLOAD_BYTES, due));
      },
    },
    {
      name: "Node ws broadcaster (floor)",
      open: (n) => Subscribers.open(ctx.broadcaster.wsUrl, n, null),
      send: async (due) => {
        await postOk(`${ctx.broadcaster.url}/publish`, {}, eventText(PAYLOAD_BYTES, due));
      },
    },
    {
      name: "JetStream + WebSocket bridge",
      open: (n) => Subscribers.open(bridge.wsUrl, n, null),
      send: async (due) => {
        const event = makeEvent(PAYLOAD_BYTES, due);
        await js.publish("lat.bench", encoder.encode(JSON.stringify(event)), { msgID: String(event.id) });
      },
    },
  ];

  const perRep = new Map<string, number[]>();
  const series: LatencySeries[] = [];
  const open: Subscribers[] = [];
  try {
    // Every target keeps its subscribers for the whole suite, so repetitions can interleave the
    // targets and drift on a shared machine touches all of them alike.
    for (const target of targets) open.push(await target.open(o.subscribers));
    for (const rate of o.rates) {
      const merged = targets.map(() => latencyHistogram());
      const totals = targets.map(() => ({ delivered: 0, expected: 0, sendErrors: 0 }));
      for (let rep = 0; rep < o.repetitions; rep++) {
        for (const [i, target] of targets.entries()) {
          const result = await measureOnce(open[i], rate, o.seconds, o.drainSeconds, target.send);
          if (result.errors > 0) {
            ctx.log(`latency ${target.name} at ${rate}/s: ${result.errors} sends failed, first: ${result.firstError}`);
          }
          totals[i].sendErrors += result.errors;
          totals[i].delivered += result.delivered;
          totals[i].expected += result.expected;
          merged[i].add(result.histogram);
          for (const { label, percentile } of REPORTED) {
            const key = `${target.name}/${rate}/${label}`;
            perRep.set(key, [...(perRep.get(key) ?? []), result.histogram.getValueAtPercentile(percentile) / 1000]);
          }
          result.histogram.destroy();
        }
      }
      for (const [i, target] of targets.entries()) {
        series.push({
          target: target.name,
          rate,
          points: CHART_PERCENTILES.map((percentile) => ({
            percentile,
            // HDR's 0th percentile is 0; the fastest delivery is the honest left end.
            ms: (percentile === 0 ? merged[i].minNonZeroValue : merged[i].getValueAtPercentile(percentile)) / 1000,
          })),
          ...totals[i],
        });
        merged[i].destroy();
        ctx.log(
          `latency ${target.name} at ${rate}/s: p50 ${median(perRep.get(`${target.name}/${rate}/p50`) ?? []).toFixed(2)} ms, p99 ${median(perRep.get(`${target.name}/${rate}/p99`) ?? []).toFixed(2)} ms, delivered ${totals[i].delivered}/${totals[i].expected}`,
        );
      }
    }
  } finally {
    for (const subs of open) await subs.close();
    await bridge.stop();
  }

  const rows: Row[] = [];
  for (const rate of o.rates) {
    for (const { label } of REPORTED) {
      for (const peer of targets.slice(1)) {
        rows.push(
          makeRow(
            {
              section: "latency",
              measure: `publish → receive ${label} at ${rate} events/s, ${o.subscribers} subscribers`,
              unit: "ms",
              better: "lower",
            },
            perRep.get(`mesh/${rate}/${label}`) ?? [],
            peer.name,
            perRep.get(`${peer.name}/${rate}/${label}`) ?? [],
          ),
        );
      }
    }
  }
  return { rows, series };
}

interface Measured {
  histogram: Histogram;
  delivered: number;
  expected: number;
  errors: number;
  firstError: string | null;
}

async function measureOnce(
  subs: Subscribers,
  rate: number,
  seconds: number,
  drainSeconds: number,
  send: (due: number) => Promise<void>,
): Promise<Measured> {
  const histogram = latencyHistogram();
  const copies = new Map<number, number>();
  let delivered = 0;
  // Events of earlier runs carry earlier scheduled times and are ignored.
  let since = Number.POSITIVE_INFINITY;
  subs.onMessage = (text) => {
    const scheduled = scheduledTimeOf(text);
    if (scheduled === null || scheduled < since) return;
    histogram.recordValue(Math.max(1, Math.round((nowMs() - scheduled) * 1000)));
    copies.set(scheduled, (copies.get(scheduled) ?? 0) + 1);
    delivered += 1;
  };
  since = nowMs();
  const result = await openLoop(rate, seconds, send);
  const expected = result.scheduled.length * subs.count;
  await waitFor(() => delivered >= expected, drainSeconds * 1000);
  subs.onMessage = () => {};
  // A copy still missing counts with the time it has waited so far (a lower bound), so losses and
  // stalls past the drain window raise the tail instead of vanishing from it.
  const end = nowMs();
  for (const due of result.scheduled) {
    const missing = subs.count - (copies.get(scheduledKey(due)) ?? 0);
    if (missing > 0) histogram.recordValueWithCount(Math.round((end - due) * 1000), missing);
  }
  return { histogram, delivered, expected, errors: result.errors, firstError: result.firstError };
}
