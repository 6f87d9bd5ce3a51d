import { type HubsPoint, holderUsPerDelivery, outsideUsPerDelivery, topicUsPerEvent } from "../suites/hubs.ts";
import { type LineSeries, lineChartSvg } from "./svg.ts";

/**
 * The hubs suite's chart: µs of CPU per event against the audience size, for the topic object
 * with all sockets on it, the topic object with its sockets on hubs, a hub's JS per delivered copy
 * and the runtime's own work per copy outside the isolate (which goes with the sockets' holder).
 */
export function hubsChartSvg(points: HubsPoint[]): string {
  const line = (name: string, config: HubsPoint["config"], value: (p: HubsPoint) => number): LineSeries => ({
    name,
    points: points.filter((p) => p.config === config).map((p) => ({ x: p.subscribers, y: value(p) })),
  });
  return lineChartSvg(
    "CPU per event by object, one topic, as its audience grows",
    "subscribers of the topic",
    "CPU µs (log scale)",
    [
      line("topic object per published event, all sockets on it", "one-topic URL", topicUsPerEvent),
      line("topic object per published event, sockets on hubs", "hubs", topicUsPerEvent),
      line("hub JS per delivered event", "hubs", holderUsPerDelivery),
      line("runtime outside the isolate per delivered event, hubs", "hubs", outsideUsPerDelivery),
    ],
  );
}
