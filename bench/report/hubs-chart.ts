import { type HubsPoint, holderUsPerDelivery, outsideUsPerDelivery, topicUsPerEvent } from "../suites/hubs.ts";
import { type LineSeries, lineChartSvg } from "./svg.ts";

/** One of the hubs suite's charts: the file's suffix after the run's name, its alt text and its SVG. */
export interface HubsChart {
  suffix: string;
  alt: string;
  svg: string;
}

const line = (
  points: HubsPoint[],
  name: string,
  config: HubsPoint["config"],
  value: (p: HubsPoint) => number,
): LineSeries => ({
  name,
  points: points.filter((p) => p.config === config).map((p) => ({ x: p.subscribers, y: value(p) })),
});

/**
 * The hubs suite's charts against the audience size: CPU per event by object (the one object that
 * takes the publishes and holds every socket, against the mesh's topic object and its hubs), and
 * publish latency of both configurations.
 */
export function hubsCharts(points: HubsPoint[]): HubsChart[] {
  const cpu = lineChartSvg(
    "CPU per event by object, one topic, as its audience grows",
    "subscribers of the topic",
    "CPU µs (log scale)",
    [
      line(points, "relaying DO (every socket), JS / published event", "relaying DO", topicUsPerEvent),
      line(points, "mesh topic object (hubs), JS / published event", "hubs", topicUsPerEvent),
      line(points, "relaying DO, JS / delivered copy", "relaying DO", holderUsPerDelivery),
      line(points, "hub, JS / delivered copy", "hubs", holderUsPerDelivery),
      line(points, "relaying DO, outside the isolate / copy", "relaying DO", outsideUsPerDelivery),
      line(points, "hubs, outside the isolate / copy", "hubs", outsideUsPerDelivery),
    ],
  );
  const publish = lineChartSvg(
    "Publish latency (POST → 201), one topic, as its audience grows",
    "subscribers of the topic",
    "ms (log scale)",
    [
      line(points, "relaying DO (every socket), p50", "relaying DO", (p) => p.publishMs.p50),
      line(points, "mesh (sockets on hubs), p50", "hubs", (p) => p.publishMs.p50),
      line(points, "relaying DO (every socket), p99", "relaying DO", (p) => p.publishMs.p99),
      line(points, "mesh (sockets on hubs), p99", "hubs", (p) => p.publishMs.p99),
    ],
  );
  return [
    { suffix: "hubs", alt: "CPU per event by object as the audience grows", svg: cpu },
    { suffix: "hubs-publish", alt: "publish latency as the audience grows", svg: publish },
  ];
}
