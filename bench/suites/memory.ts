import { subscribeFrameText } from "../../protocol/frames.ts";
import type { BenchContext, NodePeer } from "../lib/context.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { sleep } from "../lib/stats.ts";
import { Subscribers } from "../lib/subscribers.ts";
import { rssBytes } from "../setup/processes.ts";
import { type LocalWorker, startCeiling, startMesh } from "../setup/workers.ts";

/** Time for the runtime to settle after the connections open, before memory is read (quick runs: a glance). */
const SETTLE_MS = 2_000;
const QUICK_SETTLE_MS = 300;
/** Long enough idle for a local Durable Object (a hub, the relaying DO) to hibernate (about 10 s), keeping its sockets. */
const HIBERNATE_MS = 15_000;
/** Subscribers opened and closed before the baseline is read. */
const WARM_UP = 10;

/**
 * 5. Memory of the local runtime per 1,000 idle subscribers: resident memory of a fresh mesh's
 * workerd process before and after the subscribers connect to one topic, scaled to 1,000; read
 * once settled and again once the hub holding them could hibernate. The mesh is measured twice,
 * each on a fresh mesh: through the one-topic URL and through `/v1/ws` with a subscribe frame
 * (both land on the topic's hub: the topic is the routing key). Peers: a fresh Node ws
 * broadcaster process, the bench-only Worker accepting WebSockets itself (the runtime's own
 * cost per connection), and its relaying Durable Object holding them with the hibernation API
 * (the fair floor for sockets held in a Durable Object, as a hub holds them). Fresh processes, so
 * garbage from earlier suites does not blur the deltas; one sample each, since memory is not
 * handed back in a way that makes repetitions independent.
 */
export async function memorySuite(ctx: BenchContext): Promise<Row[]> {
  const n = ctx.options.memorySubscribers;
  const settleMs = ctx.options.quick ? QUICK_SETTLE_MS : SETTLE_MS;
  const hibernateMs = ctx.options.quick ? settleMs : HIBERNATE_MS;
  let mesh: LocalWorker | null = null;
  let hubs: LocalWorker | null = null;
  let ceiling: LocalWorker | null = null;
  let room: LocalWorker | null = null;
  let peer: (NodePeer & { stop(): Promise<void> }) | null = null;
  try {
    mesh = await startMesh();
    hubs = await startMesh();
    ceiling = await startCeiling();
    room = await startCeiling();
    peer = await ctx.startBroadcaster();
    const m = mesh;
    const h = hubs;
    const c = ceiling;
    const r = room;
    const p = peer;
    const meshFigures = await measure(
      () => m.workerdPids.reduce((sum, pid) => sum + rssBytes(pid), 0),
      (count) =>
        Subscribers.open(`${m.wsUrl}/v1/topics/idle/ws?token=${m.token}`, count, /"caught-up"/, { acks: true }),
      n,
      settleMs,
      hibernateMs,
    );
    const hubsFigures = await measure(
      () => h.workerdPids.reduce((sum, pid) => sum + rssBytes(pid), 0),
      (count) =>
        Subscribers.open(`${h.wsUrl}/v1/ws?token=${h.token}&key=idle`, count, /"caught-up"/, {
          acks: true,
          greeting: subscribeFrameText({ topic: "idle" }),
        }),
      n,
      settleMs,
      hibernateMs,
    );
    const peerFigures = await measure(
      () => rssBytes(p.pid),
      (count) => Subscribers.open(p.wsUrl, count, null),
      n,
      settleMs,
      hibernateMs,
    );
    const floorFigures = await measure(
      () => c.workerdPids.reduce((sum, pid) => sum + rssBytes(pid), 0),
      (count) => Subscribers.open(`${c.wsUrl}/ws`, count, /"ready"/),
      n,
      settleMs,
      hibernateMs,
    );
    const roomFigures = await measure(
      () => r.workerdPids.reduce((sum, pid) => sum + rssBytes(pid), 0),
      (count) => Subscribers.open(`${r.wsUrl}/room/idle`, count, /"ready"/),
      n,
      settleMs,
      hibernateMs,
    );
    ctx.log(
      `memory per 1,000 idle subscribers: mesh one-topic URL (on a hub) ${meshFigures.settled.toFixed(1)} MiB (${meshFigures.idle.toFixed(1)} MiB after ${hibernateMs / 1000} s idle), mesh /v1/ws (on a hub) ${hubsFigures.settled.toFixed(1)} MiB (${hubsFigures.idle.toFixed(1)} MiB), Node ws ${peerFigures.settled.toFixed(1)} MiB (${peerFigures.idle.toFixed(1)} MiB), Worker WebSocket without a DO ${floorFigures.settled.toFixed(1)} MiB (${floorFigures.idle.toFixed(1)} MiB), relaying DO ${roomFigures.settled.toFixed(1)} MiB (${roomFigures.idle.toFixed(1)} MiB)`,
    );
    const base = { section: "memory" as const, unit: "MiB", better: "lower" as const };
    const settledAfter = `${settleMs / 1000} s after connecting`;
    const idleAfter = `after ${hibernateMs / 1000} s idle (DO may hibernate)`;
    const oneTopic = "resident memory per 1,000 idle subscribers, one-topic URL (held by a hub)";
    const v1ws = "resident memory per 1,000 idle sockets on hubs, /v1/ws with a subscribe frame";
    const settled = { ...base, measure: `${oneTopic}, ${settledAfter}` };
    const idle = { ...base, measure: `${oneTopic}, ${idleAfter}` };
    const floor = "Worker WebSocket without a DO (runtime floor)";
    const roomFloor = "relaying DO, hibernatable sockets (DO floor)";
    return [
      makeRow(settled, [meshFigures.settled], "Node ws broadcaster", [peerFigures.settled]),
      makeRow(settled, [meshFigures.settled], floor, [floorFigures.settled]),
      makeRow(settled, [meshFigures.settled], roomFloor, [roomFigures.settled]),
      makeRow({ ...base, measure: `${v1ws}, ${settledAfter}` }, [hubsFigures.settled], roomFloor, [
        roomFigures.settled,
      ]),
      makeRow(idle, [meshFigures.idle], "Node ws broadcaster", [peerFigures.idle]),
      makeRow(idle, [meshFigures.idle], floor, [floorFigures.idle]),
      makeRow(idle, [meshFigures.idle], roomFloor, [roomFigures.idle]),
      makeRow({ ...base, measure: `${v1ws}, ${idleAfter}` }, [hubsFigures.idle], roomFloor, [roomFigures.idle]),
    ];
  } finally {
    await peer?.stop();
    await room?.stop();
    await ceiling?.stop();
    await hubs?.stop();
    await mesh?.stop();
  }
}

async function measure(
  rss: () => number,
  open: (count: number) => Promise<Subscribers>,
  n: number,
  settleMs: number,
  idleMs: number,
): Promise<{ settled: number; idle: number }> {
  // One-time costs (the topic's and the hub's Durable Objects starting, first code paths) are not per subscriber.
  const warm = await open(WARM_UP);
  await warm.close();
  await sleep(settleMs);
  const before = rss();
  const subs = await open(n);
  const perThousand = (bytes: number) => ((bytes - before) / 2 ** 20) * (1000 / n);
  try {
    await sleep(settleMs);
    const settled = perThousand(rss());
    await sleep(Math.max(0, idleMs - settleMs));
    return { settled, idle: perThousand(rss()) };
  } finally {
    await subs.close();
  }
}
