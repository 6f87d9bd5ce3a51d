import type { BenchContext } from "../lib/context.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { type HubsPoint, holderUsPerDelivery, runConfig, topicUsPerEvent } from "./hubs.ts";

/** The least-squares line y = b + p·x through the points. */
function fitLine(points: { x: number; y: number }[]): { b: number; p: number } {
  const n = points.length;
  const mx = points.reduce((sum, q) => sum + q.x, 0) / n;
  const my = points.reduce((sum, q) => sum + q.y, 0) / n;
  const sxx = points.reduce((sum, q) => sum + (q.x - mx) ** 2, 0);
  const sxy = points.reduce((sum, q) => sum + (q.x - mx) * (q.y - my), 0);
  const p = sxx === 0 ? Number.NaN : sxy / sxx;
  return { b: my - p * mx, p };
}

/**
 * 7b. What one more hub costs the topic object per event: the same audience of one topic spread
 * over more and more hubs (fewer sockets a hub), the rest as in the hubs suite (fixed-rate single
 * events, the isolate profiled until every copy arrived). The topic object's JS per event is
 * b + H·p with H the hubs actually used; p and b are the least-squares fit over the hub counts.
 */
export async function pushCostSuite(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.hubs.pushCost;
  const points: HubsPoint[] = [];
  for (const hubs of o.hubCounts) {
    const vars = {
      HUB_MAX_SOCKETS: String(Math.ceil(o.subscribers / hubs)),
      HUB_CONNECT_ATTEMPTS: String(o.connectAttempts),
    };
    points.push(...(await runConfig(ctx, "hubs", [o.subscribers], vars)));
  }
  const { b, p } = fitLine(points.map((q) => ({ x: q.hubs, y: topicUsPerEvent(q) })));
  ctx.log(`hubs: push cost p = ${p.toFixed(1)} µs per hub per event, b = ${b.toFixed(0)} µs per event`);
  return pushCostRows(o.subscribers, o.hubCounts, points, { b, p });
}

function pushCostRows(
  subscribers: number,
  hubCounts: number[],
  points: HubsPoint[],
  fit: { b: number; p: number },
): Row[] {
  const audience = `${subscribers.toLocaleString("en-US")} subscribers of one topic`;
  const row = (measure: string, unit: string, mesh: number, peer: string, peerValue: number) =>
    makeRow({ section: "hubs", measure, unit, better: "lower" }, [mesh], peer, [peerValue]);
  const oneHub = topicUsPerEvent(points[0]);
  const rows = points.flatMap((q, i) => [
    row(
      `JS CPU per published event on the topic object, ${audience} on ${hubCounts[i]} hubs`,
      "µs",
      topicUsPerEvent(q),
      `the same audience on ${hubCounts[0]} hub(s)`,
      oneHub,
    ),
    row(`hubs used, ${audience} on ${hubCounts[i]} hubs`, "hubs", q.hubs, "hubs aimed at", hubCounts[i]),
    makeRow(
      {
        section: "hubs",
        measure: `delivered ratio, ${audience} on ${hubCounts[i]} hubs`,
        unit: "ratio",
        better: "higher",
      },
      [q.delivered / q.expected],
      "every copy",
      [1],
    ),
  ]);
  return [
    ...rows,
    row(
      "p: topic object's JS CPU per push to one hub (least-squares slope over the hubs used)",
      "µs",
      fit.p,
      `a hub's JS CPU per delivered copy (${hubCounts[0]} hub(s))`,
      holderUsPerDelivery(points[0]),
    ),
    row(
      "b: topic object's JS CPU per event with no hub (least-squares intercept)",
      "µs",
      fit.b,
      `the topic object on ${hubCounts[0]} hub(s)`,
      oneHub,
    ),
  ];
}
