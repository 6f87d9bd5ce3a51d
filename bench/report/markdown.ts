import { advantage, type Row } from "../lib/rows.ts";
import { formatRatio, formatValue, SECTION_TITLES } from "./format.ts";
import { hubsDetails } from "./hubs-table.ts";
import type { BenchResults } from "./results.ts";

const WHAT: Record<Row["section"], string> = {
  presence:
    "Members are sockets on `/v1/ws`, each on a subscriber token of its own subject, all routed by the topic. Rates: every member sends `presence.enter` (then `presence.leave`) at once; a `members` follower of the topic's presence times the occupancy it is sent until it counts all of them (none). A large room: with N members present, a new `count` follower's first occupancy, a new `members` follower's whole list (pages of 1,000, under flow control) and every page of `GET /v1/topics/:topic/presence?limit=1000`. Peer: Redis, a hash per room (HSET/HDEL with a PUBLISH per change, counted by a subscriber; HLEN, HGETALL, HSCAN), what an app builds itself, without heartbeat bounds or linger. One sample.",
  throughput:
    "Events acknowledged per second by a closed loop of concurrent publishers (HTTP keep-alive). The mesh answers after the events are committed to the topic's SQLite log. JetStream: acked publish to a file-storage stream per topic, with a message id for dedup like the mesh's (source, id). Runtime ceiling: a bench-only Worker on the same workerd that parses the body and answers, with no Durable Object.",
  latency:
    "Publish → receive on every subscriber, measured from each event's scheduled send time (open loop at a fixed rate, so a stall counts against every event it delays), recorded in an HDR histogram. Node ws broadcaster: no storage, no validation (the floor). Durable Object relay: the bench-only Durable Object on the same workerd that only relays each POST to its sockets (the runtime's floor). JetStream bridge: acked publish, then an ordered consumer in a Node process forwards each message to its WebSockets.",
  fanout:
    "One publisher (4 single-event POSTs in flight) to many WebSocket subscribers of one topic; every delivered copy counts, from the first publish to the last delivery. The delivered ratio must be 1.0. Peers: the Node ws broadcaster, and a bench-only Durable Object on the same workerd that only relays each POST to its hibernatable sockets (no storage, no validation): the runtime's own floor for fan-out.",
  catchup:
    "A reader that is the whole topic behind, events/s until it holds every event decoded: mesh WebSocket replay (until `caught-up`) and history API pages of 1,000, each page or frame parsed; Redis Streams XRANGE pages of 1,000 and a JetStream ordered consumer, each event's JSON parsed; and XRANGE handing over the strings undecoded (what runs before 2026-11-30-5 compared against); the history floor: a Worker answering the mesh's first page, byte for byte, from memory. Each reader reads once to warm up before the counted repetitions.",
  memory:
    "Resident memory (RSS) of a fresh local runtime before and after idle subscribers connect to one topic, scaled to 1,000 subscribers; read 2 s after connecting and again after the objects holding them could hibernate; one sample each. The mesh holds every socket on a hub: measured through the one-topic URL (the topic as routing key) and through `/v1/ws` with a subscribe frame (`key=<topic>`), each on a fresh mesh. Peers: a fresh Node ws broadcaster process, the bench-only Worker accepting the WebSockets itself with no Durable Object (what workerd spends per connection on its own), and the bench-only relaying Durable Object holding them with the hibernation API (the floor for sockets held in a Durable Object).",
  delivery:
    "One durable webhook subscription created at the oldest event of a topic that holds the whole measurement's events, delivering to a healthy receiver on 127.0.0.1 (a Node HTTP server that answers 200 at once): events/s received from its creation until it holds them all (or the time bound). Peer: a bench-only Worker on the same workerd POSTing bodies of the same size to the same receiver in a loop, one at a time, with no storage and no signing: the runtime's outbound floor.",
  hubs: "One topic, single-event POSTs at a fixed rate, to N subscribers held two ways in the same run, each on its own workerd: on the mesh's hubs (`/v1/ws` with the topic as routing key, the mesh column, `HUB_MAX_SOCKETS` set so the hubs used grow with N), and every socket on one object: the bench-only relaying Durable Object (`bench/ceiling/`, hibernatable sockets, each POST sent to all of them; the peer column), as the mesh held a topic's sockets before hubs (its one-topic URL now terminates on hubs too). Locally every object shares workerd's one thread, so total deliveries/s cannot grow with hubs here; what carries over to Cloudflare, where each object has a thread of its own, is each object's CPU per event. It is read from V8 CPU profiles of the isolate (over workerd's inspector) from the first publish until every copy arrived: each sample counts for the side of the first frame up its stack that belongs to one (mesh: topic object, hub, Worker by source file; contrast: the relaying DO's class or the Worker forwarding to it; shared modules and native frames such as SQLite `exec` or socket `send` count for their caller; see docs/bench.md), and samples with no such frame are reported as unattributed. Runtime CPU outside the isolate is workerd's process CPU less the profiles, per delivered copy. One sample per size.",
};

function sectionTable(rows: Row[]): string {
  const lines = [
    "| measure | unit | mesh | peer | peer value | mesh/peer | mesh runs | peer runs |",
    "|---|---|---:|---|---:|---:|---|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.measure} | ${r.unit} | ${formatValue(r.mesh)} | ${r.peer} | ${formatValue(r.peerValue)} | ${formatRatio(r)} | ${r.meshRuns.map(formatValue).join(", ")} | ${r.peerRuns.map(formatValue).join(", ")} |`,
    );
  }
  return lines.join("\n");
}

/** The peer a measure is best normalised by: the runtime's own floor when the run has one. */
function referenceRow(rows: Row[]): Row {
  return rows.find((r) => r.peer.includes("runtime")) ?? rows[0];
}

/**
 * Mesh figures of this run next to the previous run's, so a change to the mesh shows its
 * before/after. On a shared machine absolute figures drift with background load; the ratio to a
 * peer measured in the same run drifts much less, so both are shown.
 */
function comparison(current: BenchResults, previous: BenchResults): string {
  const byMeasure = (rows: Row[]) => {
    const map = new Map<string, Row[]>();
    for (const r of rows) map.set(`${r.section}|${r.measure}`, [...(map.get(`${r.section}|${r.measure}`) ?? []), r]);
    return map;
  };
  const before = byMeasure(previous.rows);
  const lines = [
    `Mesh figures of this run next to [${previous.name}](${previous.name}.md). Absolute figures move with whatever else the machine was doing during each run; the ratio to a peer measured in the same run (the runtime's floor where there is one) is the steadier comparison.`,
    "",
    "| measure | unit | before | after | change | ratio before → after | ratio against |",
    "|---|---|---:|---:|---:|---:|---|",
  ];
  for (const [key, rows] of byMeasure(current.rows)) {
    const old = before.get(key);
    if (!old) continue;
    // The same peer on both sides where the runs share one, so the ratios compare; a ratio against
    // a peer the earlier run did not have is not shown as a before.
    const oldReference = referenceRow(old);
    const now = rows.find((r) => r.peer === oldReference.peer) ?? referenceRow(rows);
    const samePeer = old.find((r) => r.peer === now.peer);
    const then = samePeer ?? oldReference;
    const change = then.mesh === 0 ? Number.NaN : (now.mesh / then.mesh - 1) * 100;
    const sign = change > 0 ? "+" : "";
    lines.push(
      `| ${now.measure} | ${now.unit} | ${formatValue(then.mesh)} | ${formatValue(now.mesh)} | ${Number.isFinite(change) ? `${sign}${change.toFixed(0)}%` : "n/a"} | ${samePeer ? formatValue(then.ratio) : "n/a (other peer)"} → ${formatValue(now.ratio)} | ${now.peer} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The Markdown report of one run; `charts` are the latency SVG files written beside it, by rate,
 * `hubsCharts` the hubs suite's charts when it ran.
 */
export function markdownReport(
  results: BenchResults,
  charts: { rate: number; file: string }[],
  hubsCharts: { file: string; alt: string }[],
  previous: BenchResults | null,
): string {
  const m = results.machine;
  const out: string[] = [
    `# Benchmark ${results.name}${results.quick ? " (quick smoke run: figures are not meaningful)" : ""}`,
    "",
    "The mesh runs locally under **workerd** (Miniflare with wrangler's own bundle and config, state persisted to a temporary folder) on this one machine, next to its peers on 127.0.0.1, with the load generator and all WebSocket clients in one Node process. These figures compare designs on equal hardware; they are **not** Cloudflare's network, where each topic's Durable Object runs on its own machine near its users and the Worker runs in many places at once.",
    "",
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; wrangler ${m.wrangler} (workerd ${m.workerd}); ${m.natsServer}; ${m.redisServer}. Run took ${Math.round(results.durationSeconds)} s on ${results.date}, mesh bundled from commit \`${results.source.commit.slice(0, 12)}\`${results.source.dirty ? " with uncommitted changes" : ""}.`,
    "",
    `Each figure is the median of ${results.settings.repetitions} repetition(s) (the latency rows: ${results.settings.latency.repetitions ?? results.settings.repetitions}), mesh and peer interleaved in the same run; payloads are 128 bytes of \`data\` in a CloudEvent (one 16 KiB variant). The ratio is mesh/peer: for events/s above 1 favours the mesh, for latency and memory below 1 does.`,
    "",
  ];
  for (const section of Object.keys(SECTION_TITLES) as Row["section"][]) {
    const rows = results.rows.filter((r) => r.section === section);
    if (rows.length === 0) continue;
    out.push(`## ${SECTION_TITLES[section]}`, "", WHAT[section], "", sectionTable(rows), "");
    if (section === "latency") {
      for (const chart of charts) out.push(`![latency distribution at ${chart.rate} events/s](${chart.file})`, "");
      out.push(
        "Copies not delivered when the drain window closed are counted at the time they had waited (a lower bound).",
        "",
        "| target | rate | delivered | expected | failed publishes |",
        "|---|---:|---:|---:|---:|",
      );
      for (const s of results.latency) {
        out.push(`| ${s.target} | ${s.rate}/s | ${s.delivered} | ${s.expected} | ${s.sendErrors} |`);
      }
      out.push("");
    }
    if (section === "hubs") {
      for (const chart of hubsCharts) out.push(`![${chart.alt}](${chart.file})`, "");
      out.push(hubsDetails(results.hubs ?? []), "");
    }
  }
  const behind = [...results.rows]
    .filter((r) => Number.isFinite(r.ratio) && r.unit !== "ratio")
    .sort((a, b) => advantage(a) - advantage(b))
    .slice(0, 6);
  out.push(
    "## Where the mesh is furthest behind",
    "",
    "The rows with the poorest mesh/peer factor (how many times better the peer is) in this run: the first places to make the mesh faster.",
    "",
    "| measure | peer | peer is better by |",
    "|---|---|---:|",
    ...behind.map((r) => `| ${r.measure} | ${r.peer} | ${(1 / advantage(r)).toFixed(1)}× |`),
    "",
  );
  if (previous) out.push("## Before / after", "", comparison(results, previous), "");
  return `${out.join("\n")}\n`;
}
