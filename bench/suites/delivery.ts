import { type BenchContext, MESH_BATCH_TYPE, PAYLOAD_BYTES } from "../lib/context.ts";
import { batchText, makeEvent, nowMs } from "../lib/events.ts";
import { httpRequest, postOk } from "../lib/http.ts";
import { closedLoop } from "../lib/load.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { sleep } from "../lib/stats.ts";
import { WebhookSink } from "../lib/webhook-sink.ts";

const TOPIC = "delivery";
const LOAD_BATCH = 100;
/** POSTs per call of the floor Worker's loop: well inside a Worker invocation's subrequest limit. */
const FLOOR_POSTS_PER_CALL = 200;
const FLOOR_PEER = "Worker POSTing in a loop (outbound floor)";

/**
 * 6. Webhook delivery: one durable subscription that starts the whole topic behind, delivering to a
 * healthy local receiver; events/s received while it catches up (until it holds them all or the
 * time bound). Peer: the bench-only Worker POSTing bodies of the same size to the same receiver in
 * a loop, one at a time (the runtime's outbound floor).
 */
export async function deliverySuite(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.delivery;
  const sink = await WebhookSink.start();
  try {
    await preload(ctx, o.events);
    const rows: Row[] = [];
    for (const batchSize of o.batchSizes) {
      const mesh: number[] = [];
      const floor: number[] = [];
      for (let rep = 0; rep < ctx.options.repetitions; rep++) {
        mesh.push(await subscriptionRate(ctx, sink, batchSize, `b${batchSize}-r${rep}`));
        floor.push(await floorRate(ctx, sink, batchSize, `floor-b${batchSize}-r${rep}`));
        ctx.log(
          `delivery, batch ${batchSize}: subscription ${Math.round(mesh[rep])} events/s, floor ${Math.round(floor[rep])} events/s`,
        );
      }
      rows.push(
        makeRow(
          {
            section: "delivery",
            measure: `webhook subscription catching up, batch size ${batchSize}`,
            unit: "events/s",
            better: "higher",
          },
          mesh,
          FLOOR_PEER,
          floor,
        ),
      );
    }
    return rows;
  } finally {
    await sink.stop();
  }
}

async function preload(ctx: BenchContext, events: number): Promise<void> {
  await closedLoop({ concurrency: 4, seconds: 600, maxEvents: events, eventsPerOp: LOAD_BATCH }, () =>
    postOk(
      `${ctx.mesh.url}/v1/topics/${TOPIC}/events`,
      { ...ctx.mesh.headers, "content-type": MESH_BATCH_TYPE },
      batchText(LOAD_BATCH, PAYLOAD_BYTES),
    ).then(() => undefined),
  );
}

/** A subscription from the oldest event; events/s from its creation to the last event received. */
async function subscriptionRate(
  ctx: BenchContext,
  sink: WebhookSink,
  batchSize: number,
  name: string,
): Promise<number> {
  const o = ctx.options.delivery;
  const path = `/hooks/${name}`;
  const subscription = `${ctx.mesh.url}/v1/topics/${TOPIC}/subscriptions/${name}`;
  const headers = { ...ctx.mesh.headers, "content-type": "application/json" };
  const start = nowMs();
  const put = await httpRequest(
    "PUT",
    subscription,
    headers,
    JSON.stringify({ target: { type: "webhook", url: `${sink.url}${path}` }, start: "earliest", batchSize }),
  );
  if (put.status !== 201) throw new Error(`creating subscription ${name} answered ${put.status}: ${put.body}`);
  const deadline = start + o.seconds * 1000;
  while (sink.count(path).events < o.events && nowMs() < deadline) await sleep(20);
  // Deleting it stops delivery: the next measurement has the runtime to itself.
  await httpRequest("DELETE", subscription, ctx.mesh.headers);
  const { events, lastAtMs } = sink.count(path);
  if (events === 0) throw new Error(`subscription ${name} delivered nothing in ${o.seconds} s`);
  return events / ((lastAtMs - start) / 1000);
}

/** The floor Worker's loop with bodies as the subscription sends them; events/s over the same bound. */
async function floorRate(ctx: BenchContext, sink: WebhookSink, batchSize: number, name: string): Promise<number> {
  const o = ctx.options.delivery;
  const events = Array.from({ length: batchSize }, (_, i) =>
    JSON.stringify({ ...makeEvent(PAYLOAD_BYTES), seq: i + 1 }),
  );
  const body = `{"topic":"${TOPIC}","subscription":"${name}","events":[${events.join(",")}]}`;
  const posts = Math.ceil(o.events / batchSize);
  const start = nowMs();
  const deadline = start + o.seconds * 1000;
  let sent = 0;
  while (sent < posts && nowMs() < deadline) {
    const count = Math.min(FLOOR_POSTS_PER_CALL, posts - sent);
    const res = await postOk(
      `${ctx.ceiling.url}/post-loop`,
      { "content-type": "application/json" },
      JSON.stringify({ url: `${sink.url}/hooks/${name}`, body, count }),
    );
    const { ok } = JSON.parse(res) as { ok: number };
    if (ok !== count) throw new Error(`the floor Worker's receiver accepted ${ok} of ${count} POSTs`);
    sent += count;
  }
  return (sent * batchSize) / ((nowMs() - start) / 1000);
}
