import { StorageType } from "nats";
import WebSocket from "ws";
import { MarkAcks } from "../lib/acks.ts";
import { type BenchContext, MESH_BATCH_TYPE, PAYLOAD_BYTES } from "../lib/context.ts";
import { batchText, makeEvent, nowMs } from "../lib/events.ts";
import { httpRequest, postOk } from "../lib/http.ts";
import { closedLoop } from "../lib/load.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { withTimeout } from "../lib/stats.ts";

const TOPIC = "catchup";
const LOAD_BATCH = 100;

/**
 * 4. Catch-up: a reader resuming N events behind, events/s until it holds all of them decoded, over
 * the mesh's WebSocket (replay until `caught-up`) and its history API (pages of 1,000). Peers: Redis
 * Streams XRANGE paging (pages of the same size) and a JetStream ordered consumer, each decoding every
 * event's JSON as the mesh's readers do (the mesh's JSON arrives decoded with its page or frame); and
 * XRANGE once more handing over the strings undecoded, the figure earlier runs compared against.
 * The history API's runtime floor: the bench-only Worker answering the mesh's first page of 1,000,
 * byte for byte, from memory, read the same way (as many pages as the history holds).
 */
export async function catchupSuite(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.catchup;
  await preload(ctx, o.events);
  const firstPage = await meshPage(ctx, 0, o.historyPage);
  await httpRequest("PUT", `${ctx.ceiling.url}/page`, {}, firstPage);

  const historyFloor = "Worker answering a page of the same bytes from memory (history floor)";
  const readers: { name: string; read: () => Promise<number> }[] = [
    { name: "mesh WebSocket", read: () => meshSocket(ctx, o.events, o.timeoutSeconds) },
    { name: "mesh history API", read: () => meshHistory(ctx, o.historyPage, o.timeoutSeconds) },
    { name: "Redis Streams XRANGE", read: () => redisRange(ctx, o.historyPage, o.timeoutSeconds, true) },
    {
      name: "Redis Streams XRANGE, strings not decoded",
      read: () => redisRange(ctx, o.historyPage, o.timeoutSeconds, false),
    },
    { name: historyFloor, read: () => pageFloor(ctx, o.events / o.historyPage, o.timeoutSeconds) },
    { name: "JetStream ordered consumer", read: () => jetstreamOrdered(ctx, o.events, o.timeoutSeconds) },
  ];
  const runs = new Map<string, number[]>();
  // Round 0 warms every reader and is not counted: each one's first read of a freshly loaded log was
  // its slowest (by a quarter or more), whatever the system.
  for (let rep = 0; rep <= ctx.options.repetitions; rep++) {
    for (const reader of readers) {
      const start = nowMs();
      const count = await withTimeout(reader.read(), (o.timeoutSeconds + 5) * 1000, `catch-up via ${reader.name}`);
      if (count !== o.events) throw new Error(`${reader.name} read ${count} of ${o.events} events`);
      const rate = count / ((nowMs() - start) / 1000);
      if (rep > 0) runs.set(reader.name, [...(runs.get(reader.name) ?? []), rate]);
      ctx.log(
        `catch-up of ${o.events} via ${reader.name}${rep === 0 ? " (warm-up)" : ""}: ${Math.round(rate)} events/s`,
      );
    }
  }

  const rows: Row[] = [];
  for (const mesh of readers.slice(0, 2)) {
    for (const peer of readers.slice(2)) {
      if (peer.name === historyFloor && mesh.name !== "mesh history API") continue;
      rows.push(
        makeRow(
          {
            section: "catchup",
            measure: `catch-up of ${o.events} events, ${mesh.name}`,
            unit: "events/s",
            better: "higher",
          },
          runs.get(mesh.name) ?? [],
          peer.name,
          runs.get(peer.name) ?? [],
        ),
      );
    }
  }
  return rows;
}

/** The same events into the mesh topic, a Redis stream and a JetStream stream. */
async function preload(ctx: BenchContext, events: number): Promise<void> {
  const started = nowMs();
  await closedLoop({ concurrency: 4, seconds: 600, maxEvents: events, eventsPerOp: LOAD_BATCH }, () =>
    postOk(
      `${ctx.mesh.url}/v1/topics/${TOPIC}/events`,
      { ...ctx.mesh.headers, "content-type": MESH_BATCH_TYPE },
      batchText(LOAD_BATCH, PAYLOAD_BYTES),
    ).then(() => undefined),
  );
  const meshSeconds = (nowMs() - started) / 1000;

  const jsm = await ctx.nats.jetstreamManager();
  await jsm.streams.add({ name: "CATCHUP", subjects: ["catchup.>"], storage: StorageType.File });
  const js = ctx.nats.jetstream();
  const encoder = new TextEncoder();
  for (let i = 0; i < events; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, events - i) }, () => JSON.stringify(makeEvent(PAYLOAD_BYTES)));
    await Promise.all(chunk.map((text) => js.publish("catchup.bench", encoder.encode(text))));
    const pipeline = ctx.redis.pipeline();
    for (const text of chunk) pipeline.xadd(TOPIC, "*", "event", text);
    await pipeline.exec();
  }
  ctx.log(`catch-up: loaded ${events} events (mesh in ${meshSeconds.toFixed(1)} s, batches of ${LOAD_BATCH})`);
}

function meshSocket(ctx: BenchContext, events: number, timeoutSeconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${ctx.mesh.wsUrl}/v1/topics/${TOPIC}/ws?after=0&batch=true&token=${ctx.mesh.token}`, {
      perMessageDeflate: false,
    });
    let count = 0;
    const acks = new MarkAcks((text) => ws.send(text));
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket replay stopped at ${count} of ${events} events after ${timeoutSeconds} s`));
    }, timeoutSeconds * 1000);
    ws.on("message", (data: WebSocket.RawData) => {
      const text = data.toString();
      acks.read(text);
      // Frames are parsed as the mesh client parses them.
      if (text.startsWith('{"type":"events"')) count += (JSON.parse(text) as { events: unknown[] }).events.length;
      else if (text.startsWith('{"type":"event"'))
        count += isEvent((JSON.parse(text) as { event: unknown }).event) ? 1 : 0;
      else if (text.startsWith('{"type":"caught-up"')) {
        clearTimeout(timer);
        ws.close(1000);
        resolve(count);
      }
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The text of one history page. */
async function meshPage(ctx: BenchContext, after: number, page: number): Promise<string> {
  const res = await httpRequest(
    "GET",
    `${ctx.mesh.url}/v1/topics/${TOPIC}/events?after=${after}&limit=${page}`,
    ctx.mesh.headers,
  );
  if (res.status !== 200) throw new Error(`history answered ${res.status}: ${res.body.slice(0, 300)}`);
  return res.body;
}

interface PageBody {
  events: unknown[];
  next: number;
  more: boolean;
}

async function meshHistory(ctx: BenchContext, page: number, timeoutSeconds: number): Promise<number> {
  const deadline = nowMs() + timeoutSeconds * 1000;
  let after = 0;
  let count = 0;
  for (;;) {
    const body = JSON.parse(await meshPage(ctx, after, page)) as PageBody;
    count += body.events.length;
    after = body.next;
    if (!body.more) return count;
    if (nowMs() > deadline) throw new Error(`history paging stopped at ${count} events after ${timeoutSeconds} s`);
  }
}

/** The same page `pages` times from the ceiling Worker, parsed as the history reader parses it. */
async function pageFloor(ctx: BenchContext, pages: number, timeoutSeconds: number): Promise<number> {
  const deadline = nowMs() + timeoutSeconds * 1000;
  let count = 0;
  for (let i = 0; i < pages; i++) {
    const res = await httpRequest("GET", `${ctx.ceiling.url}/page`, {});
    if (res.status !== 200) throw new Error(`the page floor answered ${res.status}: ${res.body.slice(0, 300)}`);
    count += (JSON.parse(res.body) as PageBody).events.length;
    if (nowMs() > deadline) throw new Error(`the page floor stopped at ${count} events after ${timeoutSeconds} s`);
  }
  return count;
}

async function redisRange(ctx: BenchContext, page: number, timeoutSeconds: number, decode: boolean): Promise<number> {
  const deadline = nowMs() + timeoutSeconds * 1000;
  let start = "-";
  let count = 0;
  for (;;) {
    const entries = await ctx.redis.xrange(TOPIC, start, "+", "COUNT", page);
    for (const [, fields] of entries) if (decode ? isEvent(JSON.parse(fields[1])) : fields[1].length > 0) count += 1;
    if (entries.length < page) return count;
    start = `(${entries[entries.length - 1][0]}`;
    if (nowMs() > deadline) throw new Error(`XRANGE paging stopped at ${count} events after ${timeoutSeconds} s`);
  }
}

async function jetstreamOrdered(ctx: BenchContext, events: number, timeoutSeconds: number): Promise<number> {
  // An ordered consumer starts at the stream's first message by default (passing
  // deliver_policy "all" explicitly makes nats.js 2.29 wait forever).
  const consumer = await ctx.nats.jetstream().consumers.get("CATCHUP");
  const messages = await consumer.consume({ max_messages: 1000 });
  const timer = setTimeout(() => messages.stop(), timeoutSeconds * 1000);
  let count = 0;
  for await (const m of messages) {
    if (isEvent(m.json())) count += 1;
    if (count >= events) break;
  }
  clearTimeout(timer);
  messages.stop();
  return count;
}

/** A decoded event, checked so the decoding is not optimized away. */
function isEvent(value: unknown): boolean {
  return typeof value === "object" && value !== null && "id" in value;
}
