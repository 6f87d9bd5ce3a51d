import type { BenchContext } from "../lib/context.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { sleep } from "../lib/stats.ts";
import { Subscribers } from "../lib/subscribers.ts";
import { rssBytes } from "../setup/processes.ts";

/** Time for the runtime to settle after the connections open, before memory is read. */
const SETTLE_MS = 2_000;

/**
 * 5. Memory of the local runtime per 1,000 idle subscribers: resident memory of the mesh's
 * workerd processes before and after the subscribers connect (one topic), scaled to 1,000.
 * Peer: the Node ws broadcaster's process. One sample each: memory is not reclaimed in a way
 * that makes back-to-back repetitions independent.
 */
export async function memorySuite(ctx: BenchContext): Promise<Row[]> {
  const n = ctx.options.memorySubscribers;
  const meshRss = () => ctx.mesh.workerdPids.reduce((sum, pid) => sum + rssBytes(pid), 0);
  const peerRss = () => rssBytes(ctx.broadcaster.pid);
  const measure = async (rss: () => number, open: () => Promise<Subscribers>) => {
    await sleep(SETTLE_MS / 2);
    const before = rss();
    const subs = await open();
    try {
      await sleep(SETTLE_MS);
      return ((rss() - before) / 2 ** 20) * (1000 / n);
    } finally {
      await subs.close();
    }
  };
  const mesh = await measure(meshRss, () =>
    Subscribers.open(`${ctx.mesh.wsUrl}/v1/topics/idle/ws?token=${ctx.mesh.token}`, n, /"caught-up"/),
  );
  const peer = await measure(peerRss, () => Subscribers.open(ctx.broadcaster.wsUrl, n, null));
  ctx.log(`memory per 1,000 idle subscribers: mesh ${mesh.toFixed(1)} MiB, Node ws ${peer.toFixed(1)} MiB`);
  return [
    makeRow(
      { section: "memory", measure: "resident memory per 1,000 idle subscribers", unit: "MiB", better: "lower" },
      [mesh],
      "Node ws broadcaster",
      [peer],
    ),
  ];
}
