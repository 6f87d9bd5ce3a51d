import { RetentionPolicy, StorageType } from "nats";
import { type CoalesceOptions, createPublisher, type PublishEvent } from "../../client/node/publisher-node.ts";
import {
  type BenchContext,
  LARGE_PAYLOAD_BYTES,
  MESH_BATCH_TYPE,
  MESH_EVENT_TYPE,
  PAYLOAD_BYTES,
} from "../lib/context.ts";
import { batchText, eventText, makeEvent } from "../lib/events.ts";
import { postOk } from "../lib/http.ts";
import { closedLoop } from "../lib/load.ts";
import { makeRow, type Row } from "../lib/rows.ts";

interface Case {
  key: string;
  label: string;
  batch: number;
  topics: number;
  payload: number;
  /** Concurrent publishers; the run's default when absent. */
  concurrency?: number;
}

type Publisher = (c: Case, topic: number) => Promise<void>;

/** Concurrent callers of the SDK's publish() in the SDK rows. */
const SDK_CALLERS = [1, 8, 32];
/** The most callers: their events make one batch request at a time, measured on its own too. */
const SDK_BATCH = Math.max(...SDK_CALLERS);

/**
 * 1. Publish throughput (events/s acknowledged): single events and batches, one topic and many.
 * Peers: JetStream acked publish (file storage, dedup by message id like the mesh's (source, id))
 * the bench-only Worker that answers without a Durable Object, and the same Worker calling a Durable
 * Object that answers the publish RPC without storage (the hop floor) or after storing each event in
 * its SQLite (the commit floor: one durable commit per call, nothing else). Then the publisher SDK's
 * publish() of single events from 1, 8 and 32 concurrent callers, coalescing on against off.
 */
export async function throughputSuite(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.throughput;
  const cases: Case[] = [
    { key: "single-1", label: "single events, 1 topic", batch: 1, topics: 1, payload: PAYLOAD_BYTES },
    ...[1, 32].map((concurrency) => ({
      key: `single-1-c${concurrency}`,
      label: `single events, 1 topic, ${concurrency} concurrent publisher${concurrency === 1 ? "" : "s"}`,
      batch: 1,
      topics: 1,
      payload: PAYLOAD_BYTES,
      concurrency,
    })),
    { key: "single-n", label: `single events, ${o.topics} topics`, batch: 1, topics: o.topics, payload: PAYLOAD_BYTES },
    {
      key: "batch-1",
      label: `batches of ${o.batchSize}, 1 topic`,
      batch: o.batchSize,
      topics: 1,
      payload: PAYLOAD_BYTES,
    },
    {
      key: "batch-n",
      label: `batches of ${o.batchSize}, ${o.topics} topics`,
      batch: o.batchSize,
      topics: o.topics,
      payload: PAYLOAD_BYTES,
    },
    { key: "large-1", label: "single 16 KiB events, 1 topic", batch: 1, topics: 1, payload: LARGE_PAYLOAD_BYTES },
    // What the SDK sends for 32 concurrent callers: one batch of their 32 events at a time.
    {
      key: "batch32-c1",
      label: `batches of ${SDK_BATCH}, 1 topic, 1 publisher`,
      batch: SDK_BATCH,
      topics: 1,
      payload: PAYLOAD_BYTES,
      concurrency: 1,
    },
  ];

  const jsm = await ctx.nats.jetstreamManager();
  const js = ctx.nats.jetstream();
  for (const c of cases) {
    for (let t = 0; t < c.topics; t++) {
      await jsm.streams.add({
        name: `TP_${c.key}_${t}`.replace(/-/g, "_"),
        subjects: [`tp.${c.key}.${t}`],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
      });
    }
  }

  const encoder = new TextEncoder();
  const http =
    (base: string, headers: Record<string, string>): Publisher =>
    async (c, topic) => {
      const single = c.batch === 1;
      const body = single ? eventText(c.payload) : batchText(c.batch, c.payload);
      await postOk(
        `${base}/v1/topics/tp-${c.key}-${topic}/events`,
        { ...headers, "content-type": single ? MESH_EVENT_TYPE : MESH_BATCH_TYPE },
        body,
      );
    };
  const jetstream: Publisher = async (c, topic) => {
    const sends = Array.from({ length: c.batch }, () => {
      const event = makeEvent(c.payload);
      return js.publish(`tp.${c.key}.${topic}`, encoder.encode(JSON.stringify(event)), { msgID: String(event.id) });
    });
    await Promise.all(sends);
  };
  const targets: { name: string; publish: Publisher }[] = [
    { name: "mesh", publish: http(ctx.mesh.url, ctx.mesh.headers) },
    { name: "JetStream acked publish (file)", publish: jetstream },
    { name: "Worker without a DO (runtime ceiling)", publish: http(ctx.ceiling.url, {}) },
    { name: "DO that stores nothing (hop floor)", publish: http(`${ctx.ceiling.url}/hop`, {}) },
    { name: "DO that stores each event (commit floor)", publish: http(`${ctx.ceiling.url}/commit`, {}) },
  ];

  const runs = new Map<string, number[]>();
  for (const c of cases) {
    // First touch of every topic (the mesh creates a Durable Object per topic) is not measured.
    for (const target of targets) {
      for (let t = 0; t < c.topics; t++) await target.publish(c, t);
    }
    for (let rep = 0; rep < ctx.options.repetitions; rep++) {
      // Interleaved, so drift on a shared machine touches every target alike.
      for (const target of targets) {
        const rate = await closedLoop(
          {
            concurrency: c.concurrency ?? o.concurrency,
            seconds: o.seconds,
            maxEvents: o.maxEvents,
            eventsPerOp: c.batch,
          },
          (n) => target.publish(c, n % c.topics),
        );
        const key = `${c.key}/${target.name}`;
        runs.set(key, [...(runs.get(key) ?? []), rate]);
      }
    }
    ctx.log(
      `throughput ${c.label}: ${targets.map((t) => `${t.name} ${Math.round(runs.get(`${c.key}/${t.name}`)?.[0] ?? 0)}`).join(", ")} events/s`,
    );
  }

  const rows: Row[] = [];
  for (const c of cases) {
    const meshRuns = runs.get(`${c.key}/mesh`) ?? [];
    for (const target of targets.slice(1)) {
      rows.push(
        makeRow(
          { section: "throughput", measure: `publish, ${c.label}`, unit: "events/s", better: "higher" },
          meshRuns,
          target.name,
          runs.get(`${c.key}/${target.name}`) ?? [],
        ),
      );
    }
  }
  return [...rows, ...(await sdkRows(ctx))];
}

/**
 * The SDK's publish() of one event per call from `callers` concurrent callers to one topic, with
 * its default coalescing (the mesh column) against `coalesce: false`, and against the same SDK
 * publishing to the commit floor (the bench-only Worker and a Durable Object that stores each event
 * and answers, nothing else): what the SDK's request shape can reach on this runtime.
 */
async function sdkRows(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.throughput;
  const variants: { key: string; coalesce: CoalesceOptions | false; baseUrl: string; peer?: string }[] = [
    { key: "on", coalesce: {}, baseUrl: ctx.mesh.url },
    { key: "off", coalesce: false, baseUrl: ctx.mesh.url, peer: "SDK without coalescing" },
    {
      key: "floor",
      coalesce: {},
      baseUrl: `${ctx.ceiling.url}/commit`,
      peer: "SDK publish() to the DO that stores each event (commit floor)",
    },
  ];
  const rows: Row[] = [];
  for (const callers of SDK_CALLERS) {
    const runs = new Map<string, number[]>();
    const targets = variants.map((v) => {
      const topic = `tp-sdk-${callers}-${v.key}`;
      // No retries: a refused publish fails the run, as in the rows above.
      const publisher = createPublisher({
        baseUrl: v.baseUrl,
        headers: ctx.mesh.headers,
        retry: { maxAttempts: 1 },
        coalesce: v.coalesce,
      });
      return {
        ...v,
        // The same events as the rows above (ids and source given; the SDK adds the time).
        publish: () => publisher.publish(topic, makeEvent(PAYLOAD_BYTES) as PublishEvent),
      };
    });
    // First touch of each topic is not measured.
    for (const target of targets) await target.publish();
    for (let rep = 0; rep < ctx.options.repetitions; rep++) {
      for (const target of targets) {
        const rate = await closedLoop(
          { concurrency: callers, seconds: o.seconds, maxEvents: o.maxEvents, eventsPerOp: 1 },
          async () => {
            await target.publish();
          },
        );
        runs.set(target.key, [...(runs.get(target.key) ?? []), rate]);
      }
    }
    const on = runs.get("on") ?? [];
    ctx.log(
      `throughput SDK publish(), ${callers} callers: ${variants.map((v) => `${v.key} ${Math.round(runs.get(v.key)?.[0] ?? 0)}`).join(", ")} events/s`,
    );
    for (const v of variants) {
      if (v.peer === undefined) continue;
      rows.push(
        makeRow(
          {
            section: "throughput",
            measure: `SDK publish() of single events, ${callers} concurrent caller${callers === 1 ? "" : "s"}, 1 topic`,
            unit: "events/s",
            better: "higher",
          },
          on,
          v.peer,
          runs.get(v.key) ?? [],
        ),
      );
    }
  }
  return rows;
}
