import { type BenchContext, MESH_EVENT_TYPE, PAYLOAD_BYTES } from "../lib/context.ts";
import { eventText, nowMs } from "../lib/events.ts";
import { postOk } from "../lib/http.ts";
import { closedLoop } from "../lib/load.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { Subscribers, waitFor } from "../lib/subscribers.ts";

interface Target {
  name: string;
  open(topic: string, count: number): Promise<Subscribers>;
  publish(topic: string): Promise<void>;
}

/** Publishes in flight at once from the one publisher. */
const PUBLISH_CONCURRENCY = 4;

/**
 * 3. Fan-out: one publisher, many WebSocket subscribers of one topic. Delivered events/s (every
 * copy counts) from the first publish to the last delivery, and the delivered ratio, which must be
 * 1.0. Peer: the plain Node ws broadcaster.
 */
export async function fanoutSuite(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.fanout;
  const targets: Target[] = [
    {
      name: "mesh",
      open: (topic, n) =>
        Subscribers.open(`${ctx.mesh.wsUrl}/v1/topics/${topic}/ws?token=${ctx.mesh.token}`, n, /"caught-up"/, {
          acks: true,
        }),
      publish: async (topic) => {
        await postOk(
          `${ctx.mesh.url}/v1/topics/${topic}/events`,
          { ...ctx.mesh.headers, "content-type": MESH_EVENT_TYPE },
          eventText(PAYLOAD_BYTES),
        );
      },
    },
    {
      name: "DO relay without storage (runtime floor)",
      open: (topic, n) => Subscribers.open(`${ctx.ceiling.wsUrl}/room/${topic}`, n, /"ready"/),
      publish: async (topic) => {
        await postOk(`${ctx.ceiling.url}/room/${topic}`, {}, eventText(PAYLOAD_BYTES));
      },
    },
    {
      name: "Node ws broadcaster",
      open: (_topic, n) => Subscribers.open(ctx.broadcaster.wsUrl, n, null),
      publish: async () => {
        await postOk(`${ctx.broadcaster.url}/publish`, {}, eventText(PAYLOAD_BYTES));
      },
    },
  ];

  const rows: Row[] = [];
  for (const size of o.sizes) {
    const rates = new Map<string, number[]>();
    const ratios = new Map<string, number[]>();
    for (const target of targets) {
      const subs = await target.open(`fan-${size.subscribers}`, size.subscribers);
      try {
        for (let rep = 0; rep < ctx.options.repetitions; rep++) {
          let delivered = 0;
          let lastAt = 0;
          subs.onMessage = (text) => {
            if (!text.startsWith('{"type":"event"')) return;
            delivered += 1;
            lastAt = nowMs();
          };
          const expected = size.events * size.subscribers;
          const start = nowMs();
          await closedLoop(
            { concurrency: PUBLISH_CONCURRENCY, seconds: o.timeoutSeconds, maxEvents: size.events, eventsPerOp: 1 },
            () => target.publish(`fan-${size.subscribers}`),
          );
          await waitFor(() => delivered >= expected, Math.max(0, start + o.timeoutSeconds * 1000 - nowMs()));
          subs.onMessage = () => {};
          const seconds = ((lastAt || nowMs()) - start) / 1000;
          rates.set(target.name, [...(rates.get(target.name) ?? []), delivered / seconds]);
          ratios.set(target.name, [...(ratios.get(target.name) ?? []), delivered / expected]);
        }
      } finally {
        await subs.close();
      }
      ctx.log(
        `fan-out to ${size.subscribers}: ${target.name} ${Math.round(rates.get(target.name)?.[0] ?? 0)} deliveries/s, ratio ${ratios.get(target.name)?.join(", ")}`,
      );
    }
    const base = { section: "fanout" as const };
    for (const peer of targets.slice(1)) {
      rows.push(
        makeRow(
          {
            ...base,
            measure: `delivered events/s, 1 topic → ${size.subscribers} subscribers`,
            unit: "events/s",
            better: "higher",
          },
          rates.get("mesh") ?? [],
          peer.name,
          rates.get(peer.name) ?? [],
        ),
        makeRow(
          {
            ...base,
            measure: `delivered ratio, 1 topic → ${size.subscribers} subscribers`,
            unit: "ratio",
            better: "higher",
          },
          ratios.get("mesh") ?? [],
          peer.name,
          ratios.get(peer.name) ?? [],
        ),
      );
    }
  }
  return rows;
}
