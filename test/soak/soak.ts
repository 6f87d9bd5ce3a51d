import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { PublishEvent } from "../../client/publisher.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { SubscriptionView } from "../../protocol/subscriptions.ts";
import { freePort } from "../../scripts/loopback.mjs";
import { adminApi } from "../support/admin-api.ts";
import { type ChaosOutcome, ChaosReceiver } from "../support/chaos-receiver.ts";
import { ChildServer } from "../support/child-server.ts";
import { configWithRateLimits } from "../support/config-copy.ts";
import { CutProxy } from "../support/cut-proxy.ts";
import {
  type Ack,
  checkAcks,
  checkDeliveries,
  checkLog,
  type DeliveryReport,
  type LoggedEvent,
  seqsUpTo,
} from "../support/invariants.ts";
import { readRequestBody, startLocalHttp } from "../support/local-http.ts";
import { type Follower, follow, sleep, type TrackedPublisher, trackedPublisher } from "../support/parties.ts";
import { seededRandom } from "../support/seeded-random.ts";
import { frozenWorker } from "./frozen-worker.ts";
import {
  curveCsv,
  curveFigures,
  curveLines,
  directoryBytes,
  type MemorySample,
  workerdMemory,
} from "./memory-curve.ts";
import { MeshInspector } from "./mesh-inspector.ts";

/**
 * `npm run soak -- --minutes N`: mixed load on a real local mesh (wrangler dev) for N minutes,
 * with faults all along: publishers (SDK), live subscribers whose connections are cut at random,
 * webhook receivers that fail at random, a queue consumer that throws at random, and restarts of
 * the server (SIGKILL and graceful). Then it drains, redrives every dead letter and checks the
 * invariants (test/support/invariants.ts), printing counts; it exits 1 on any violation. It samples
 * workerd's memory all along and writes the curve to test-output/soak/memory-curve.csv.
 */
const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    seed: { type: "string" },
    /** Events per second over all publishers. */
    rate: { type: "string", default: "40" },
    /** Seconds between server restarts (kills and graceful ones alternate); 0: none. */
    "restart-every": { type: "string", default: "60" },
    /** Parts left out, comma-separated (sockets, webhook, queue, cuts): to find what costs memory. */
    without: { type: "string", default: "" },
    /** Fails the run when workerd's RSS grows more than this many MB after warm-up. */
    "assert-flat": { type: "string" },
  },
});
const minutes = Number(values.minutes);
const seed = Number(values.seed ?? Date.now() % 1_000_000);
const rate = Number(values.rate);
const restartEverySeconds = Number(values["restart-every"]);
const PARTS = ["sockets", "webhook", "queue", "cuts"] as const;
const without = new Set(values.without.split(",").filter(Boolean));
const flatBoundMb = values["assert-flat"] === undefined ? null : Number(values["assert-flat"]);
if (
  !(minutes > 0) ||
  !(rate > 0) ||
  !(restartEverySeconds >= 0) ||
  [...without].some((part) => !(PARTS as readonly string[]).includes(part)) ||
  (flatBoundMb !== null && !(flatBoundMb >= 0))
) {
  console.error(
    `usage: npm run soak -- --minutes N [--rate EVENTS_PER_S] [--restart-every S (0: none)] [--seed N] [--without ${PARTS.join(",")}] [--assert-flat MB]`,
  );
  process.exit(2);
}
const has = (part: (typeof PARTS)[number]) => !without.has(part);
mkdirSync("test-output/soak", { recursive: true });
const MEMORY_CURVE_PATH = "test-output/soak/memory-curve.csv";
/** How often the memory curve is sampled. */
const SAMPLE_EVERY_MS = 10_000;
const rand = seededRandom(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];

const TOPICS = ["soak.orders", "soak.users", "soak.audit"];
const PUBLISHERS = 4;
const FOLLOWERS_PER_TOPIC = 2;
const QUEUE_TYPE = "AttemptFailed";
const log = (line: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);

// ---- the Worker: the mesh plus the soak's queue consumer, with rate limits out of the way ----
const config = configWithRateLimits("soak", 1_000_000);

// ---- what the queue consumer reports: each call, and whether it took effect ----
const queueCalls = { ok: 0, failed: 0 };
const queueEffects = new Map<string, number[]>(TOPICS.map((t) => [t, []]));
const effectsServer = await startLocalHttp(
  async (req, res) => {
    const call = JSON.parse((await readRequestBody(req)).toString("utf8")) as { topic: string; seq: number };
    if (req.url === "/effect") {
      queueCalls.ok += 1;
      queueEffects.get(call.topic)?.push(call.seq);
    } else queueCalls.failed += 1;
    res.writeHead(200).end();
  },
  (err, res) => res.writeHead(500).end(String(err)),
);
const effectsUrl = effectsServer.url;

// ---- webhook receivers that fail at random, and refuse "poison" events until healed ----
const poison = new Map<string, Set<number>>(TOPICS.map((t) => [t, new Set()]));
let healed = false;
function decide(topic: string, seqs: number[]): ChaosOutcome {
  if (!healed && seqs.some((s) => poison.get(topic)?.has(s))) return "error";
  const dice = rand();
  if (dice < 0.8) return "ok";
  if (dice < 0.85) return "slow";
  if (dice < 0.88) return "timeout";
  if (dice < 0.95) return "error";
  return "close";
}
const receiver = await new ChaosReceiver({ decide, senderTimeoutMs: 1_000 }).start();

// ---- the server ----
const vars: Record<string, string> = {
  SOAK_EFFECTS_URL: effectsUrl,
  SOAK_FAIL_PERCENT: "15",
  QUEUE_RETRY_FIRST_DELAY_SECONDS: "1",
  QUEUE_RETRY_MAX_DELAY_SECONDS: "4",
};
// One folder per run: another soak started meanwhile must not rewrite the bundle this one's server watches.
const bundleDir = `test-output/soak/worker-bundle-${process.pid}`;
const entrypoint = frozenWorker(config.path, "test/soak/worker/soak-worker.ts", bundleDir);
const inspector = new MeshInspector(await freePort());
const server = new ChildServer({ config: config.path, entrypoint, vars, inspectorPort: inspector.port });
const admin = adminApi(server);
const restarts = { kill: 0, graceful: 0 };
let rssMax = 0;
/** workerd's memory during the load (restarts reset it, so a flat curve needs `--restart-every 0`). */
const memoryCurve: MemorySample[] = [];

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.json<T>(method, path, body);
    } catch (err) {
      // The server may be restarting: try again for a while.
      if (attempt >= 60) throw err;
      await sleep(500);
    }
  }
}

let exitCode = 1;
try {
  log(
    `seed ${seed}, ${minutes} min, ${rate} events/s, ${restartEverySeconds > 0 ? `a restart every ${restartEverySeconds} s` : "no restarts"}${without.size > 0 ? `, without ${[...without].join(", ")}` : ""}`,
  );
  await server.start();
  rssMax = server.workerdRssBytes();
  for (const topic of TOPICS) {
    // Each topic draws its batch size even without webhooks, so a seed's other choices stay the same.
    const batchSize = 1 + Math.floor(rand() * 10);
    if (has("webhook")) {
      await api("PUT", `/v1/topics/${topic}/subscriptions/hook`, {
        target: { type: "webhook", url: receiver.hookUrl(topic), timeoutMs: 1_000 },
        start: "earliest",
        batchSize,
        retry: { maxAttempts: 6, firstDelayMs: 50, maxDelayMs: 1_000 },
      });
    }
    if (has("queue")) {
      await api("PUT", `/v1/topics/${topic}/subscriptions/jobs`, {
        target: { type: "queue", queue: "DELIVERY_QUEUE" },
        types: [QUEUE_TYPE],
        start: "earliest",
        batchSize: 5,
      });
    }
  }
  const proxy = await new CutProxy(Number(new URL(server.url).port)).start();
  const followers = new Map<string, Follower[]>(
    TOPICS.map((t) => [
      t,
      Array.from({ length: has("sockets") ? FOLLOWERS_PER_TOPIC : 0 }, () => follow(proxy.url, t)),
    ]),
  );
  const allFollowers = [...followers.values()].flat();

  // ---- the load, with faults, until the deadline ----
  const loadStart = Date.now();
  const deadline = loadStart + minutes * 60_000;
  const running = () => Date.now() < deadline;
  const publishers: TrackedPublisher[] = [];
  const perPublisherRate = rate / PUBLISHERS;
  const publishing = Array.from({ length: PUBLISHERS }, async (_, p) => {
    const publisher = trackedPublisher(() => server.url, `/soak/publisher-${p}`);
    publishers.push(publisher);
    for (let n = 0; running(); n++) {
      const started = Date.now();
      const topic = pick(TOPICS);
      const count = 1 + Math.floor(rand() * 5);
      const plans = Array.from({ length: count }, () => (rand() < 0.2 ? (rand() < 0.02 ? "poison" : "ok") : null));
      await publisher.publish(
        topic,
        plans.map(
          (plan, i): PublishEvent =>
            plan === null
              ? { type: "Tick", data: { publisher: p, n, i } }
              : { type: QUEUE_TYPE, data: { userId: `p${p}-${n}-${i}`, attempt: 1, error: plan } },
        ),
      );
      const acks = publisher.acks.slice(-count);
      acks.forEach((ack, i) => {
        if (plans[i] === "poison") poison.get(topic)?.add(ack.seq);
      });
      await sleep(Math.max(0, (count / perPublisherRate) * 1000 - (Date.now() - started)));
    }
  });
  const cuts = { serverClose: 0, reset: 0, client: 0 };
  const cutting = (async () => {
    while (running() && has("cuts") && has("sockets")) {
      await sleep(2_000 + rand() * 6_000);
      const dice = rand();
      if (dice < 0.4) cuts.serverClose += proxy.closeFromServer();
      else if (dice < 0.8) cuts.reset += proxy.reset();
      else {
        const f = pick(allFollowers);
        f.subscription.reconnect();
        cuts.client += 1;
      }
    }
  })();
  const restarting = (async () => {
    while (restartEverySeconds > 0 && Date.now() + restartEverySeconds * 1000 < deadline) {
      await sleep(restartEverySeconds * 1000 * (0.75 + rand() * 0.5));
      if (!running()) break;
      if ((restarts.kill + restarts.graceful) % 2 === 0) {
        await server.kill();
        restarts.kill += 1;
      } else {
        await server.stop();
        restarts.graceful += 1;
      }
      await server.start();
      log(`restarted (${restarts.kill} killed, ${restarts.graceful} graceful so far)`);
    }
  })();
  const sampleMemory = async () => {
    const heap = await inspector.heap();
    const sample: MemorySample = {
      at: Math.round((Date.now() - loadStart) / 1000),
      ...workerdMemory(server.pids),
      heap: heap?.live ?? null,
      storage: directoryBytes(server.persistDir),
      events: publishers.reduce((n, p) => n + p.acks.length, 0),
    };
    memoryCurve.push(sample);
    // Written as it grows, so a long run can be watched (and a cut-short one still leaves its curve).
    writeFileSync(MEMORY_CURVE_PATH, curveCsv(memoryCurve));
    rssMax = Math.max(rssMax, sample.rss);
    return sample;
  };
  await sampleMemory();
  const watching = (async () => {
    for (let tick = 1; running(); tick++) {
      await sleep(Math.min(SAMPLE_EVERY_MS, Math.max(0, deadline - Date.now())));
      const sample = await sampleMemory();
      if (tick % 3 === 0) {
        log(
          `${sample.events} events acknowledged, ${receiver.requests.length} webhook requests, ${queueCalls.ok + queueCalls.failed} consumer calls, ${allFollowers.reduce((n, f) => n + f.connections, 0)} socket connections, workerd RSS ${(sample.rss / 1e6).toFixed(0)} MB (mesh ${(sample.mesh / 1e6).toFixed(0)} MB, its heap ${((sample.heap ?? 0) / 1e6).toFixed(0)} MB), state ${(sample.storage / 1e6).toFixed(0)} MB`,
        );
      }
    }
  })();
  await Promise.all([...publishing, cutting, restarting, watching]);

  // ---- drain: heal the poison, redrive every dead letter, let every path catch up ----
  log("load done; healing the poisoned events and draining");
  healed = true;
  vars.SOAK_HEALED = "1";
  await server.stop();
  await server.start();
  restarts.graceful += 1;
  const acks: Ack[] = publishers.flatMap((p) => p.acks);
  const heads = new Map<string, number>();
  for (const topic of TOPICS) heads.set(topic, (await admin.readLog(topic)).head);
  const deadLettered = { hook: new Map<string, Set<number>>(), queue: new Map<string, Set<number>>() };
  for (const topic of TOPICS) {
    deadLettered.hook.set(topic, new Set());
    deadLettered.queue.set(topic, new Set());
  }
  const drainDeadline = Date.now() + 5 * 60_000;
  /** Every page of a dead-letter listing: one unread page would make its redriven events look out of order. */
  const allDeadLetters = async (path: string, query: Record<string, string> = {}): Promise<DeadLetter[]> => {
    const found: DeadLetter[] = [];
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams({ ...query, limit: "1000", ...(cursor === null ? {} : { cursor }) });
      const page: { deadLetters: DeadLetter[]; next: string | null } = await api("GET", `${path}?${params}`);
      found.push(...page.deadLetters);
      cursor = page.next;
    } while (cursor !== null);
    return found;
  };
  const view = (topic: string, name: string) =>
    api<SubscriptionView>("GET", `/v1/topics/${topic}/subscriptions/${name}`);
  const logs = new Map<string, LoggedEvent[]>();
  const queueSeqs = new Map<string, number[]>();
  for (const topic of TOPICS) {
    const events = (await admin.readLog(topic)).events;
    logs.set(topic, events);
    queueSeqs.set(topic, has("queue") ? events.filter((e) => e.type === QUEUE_TYPE).map((e) => e.seq) : []);
  }
  /**
   * The local queue simulator keeps messages in memory, so a restart drops those not yet consumed
   * (Cloudflare Queues keep them). When a topic's queue effects stop coming although its
   * subscription is caught up and no dead letter is left, the drain seeks the subscription back to
   * the first missing seq: the consumer's ledger skips what it already did.
   */
  const droppedByLocalQueue = new Map<string, number>(TOPICS.map((t) => [t, 0]));
  const queueProgress = new Map<string, { count: number; since: number }>();
  let lastRedrive = 0;
  /** One pass over every path; returns what is still pending (empty when all is delivered). */
  const drainStep = async (): Promise<string[]> => {
    const pending: string[] = [];
    const redriveNow = Date.now() - lastRedrive > 10_000;
    let redrove = false;
    const queueDead = await allDeadLetters("/v1/dead-letters", { kind: "queue" });
    for (const topic of TOPICS) {
      const head = heads.get(topic) ?? 0;
      const lags = {
        hook: has("webhook") ? (await view(topic, "hook")).lag : 0,
        jobs: has("queue") ? (await view(topic, "jobs")).lag : 0,
      };
      if (lags.hook > 0 || lags.jobs > 0) pending.push(`${topic} lag ${lags.hook} (webhook), ${lags.jobs} (queue)`);
      if (has("webhook")) {
        const hookDead = await allDeadLetters(`/v1/topics/${topic}/subscriptions/hook/dead-letters`);
        if (hookDead.length > 0) {
          pending.push(`${topic} ${hookDead.length} webhook dead letters`);
          for (const d of hookDead) deadLettered.hook.get(topic)?.add(d.seq);
          if (redriveNow) {
            await api("POST", `/v1/topics/${topic}/subscriptions/hook/dead-letters/redrive`);
            redrove = true;
          }
        }
        const taken = new Set(receiver.taken(topic)).size;
        if (taken < head) pending.push(`${topic} webhook ${taken} of ${head}`);
      }
      const sockets = (followers.get(topic) ?? []).map((f) => f.subscription.lastSeq);
      if (sockets.some((seq) => seq < head)) pending.push(`${topic} sockets at ${sockets.join(", ")} of ${head}`);
      const expected = queueSeqs.get(topic) ?? [];
      const effects = new Set(queueEffects.get(topic));
      if (effects.size < expected.length) {
        pending.push(`${topic} queue ${effects.size} of ${expected.length}`);
        const progress = queueProgress.get(topic);
        if (progress?.count !== effects.size) queueProgress.set(topic, { count: effects.size, since: Date.now() });
        else if (lags.jobs === 0 && queueDead.length === 0 && Date.now() - progress.since > 20_000) {
          const missing = expected.filter((seq) => !effects.has(seq));
          droppedByLocalQueue.set(topic, (droppedByLocalQueue.get(topic) ?? 0) + missing.length);
          await api("POST", `/v1/topics/${topic}/subscriptions/jobs/seek`, { to: missing[0] });
          queueProgress.set(topic, { count: effects.size, since: Date.now() });
          log(
            `${topic}: ${missing.length} queue messages never reached the consumer; seeking back to seq ${missing[0]}`,
          );
        }
      }
    }
    if (queueDead.length > 0) {
      pending.push(`${queueDead.length} queue dead letters`);
      for (const d of queueDead) deadLettered.queue.get(d.topic)?.add(d.seq);
      if (redriveNow) {
        for (let i = 0; i < queueDead.length; i += 100) {
          await api("POST", "/v1/dead-letters/redrive", { ids: queueDead.slice(i, i + 100).map((d) => d.id) });
        }
        redrove = true;
      }
    }
    if (redrove) lastRedrive = Date.now();
    return pending;
  };
  let complete = false;
  for (let tick = 1; Date.now() < drainDeadline; tick++) {
    const pending = await drainStep();
    if (pending.length === 0) {
      complete = true;
      break;
    }
    if (tick % 15 === 0) log(`draining: ${pending.join("; ")}`);
    await sleep(1_000);
  }
  rssMax = Math.max(rssMax, server.workerdRssBytes());

  // ---- the invariants ----
  const logReports = TOPICS.map((t) => checkLog(t, heads.get(t) ?? 0, logs.get(t) ?? []));
  const ackReport = checkAcks(acks, logs);
  const wsReports: DeliveryReport[] = [];
  const hookReports: DeliveryReport[] = [];
  const queueReports: DeliveryReport[] = [];
  for (const topic of TOPICS) {
    const expected = seqsUpTo(heads.get(topic) ?? 0);
    (followers.get(topic) ?? []).forEach((f, i) => {
      wsReports.push(checkDeliveries(`${topic} socket ${i}`, f.seqs, { expected }));
    });
    if (has("webhook")) {
      hookReports.push(
        checkDeliveries(`${topic} webhook`, receiver.taken(topic), {
          expected,
          lateAllowed: deadLettered.hook.get(topic),
        }),
      );
    }
    queueReports.push(
      checkDeliveries(`${topic} queue`, queueEffects.get(topic) ?? [], {
        expected: queueSeqs.get(topic) ?? [],
        ordered: false,
      }),
    );
  }
  for (const f of allFollowers) f.close();
  await proxy.close();

  const deliveries = [...wsReports, ...hookReports, ...queueReports];
  const sum = (reports: DeliveryReport[], key: "distinct" | "redelivered" | "missing" | "outOfOrder" | "unexpected") =>
    reports.reduce((n, r) => n + r[key], 0);
  const lost = ackReport.missing + sum(deliveries, "missing") + logReports.reduce((n, r) => n + r.gaps, 0);
  const duplicatedInLog = logReports.reduce((n, r) => n + r.duplicates, 0);
  const outOfOrder = sum(deliveries, "outOfOrder");
  const unexpected = sum(deliveries, "unexpected");
  const violations = [ackReport, ...logReports, ...deliveries].flatMap((r) => r.violations);
  const webhookFailures = receiver.count("error") + receiver.count("close") + receiver.count("timeout");
  const count = (m: Map<string, Set<number>>) => [...m.values()].reduce((n, s) => n + s.size, 0);
  const loadSeconds = minutes * 60;
  // The bound is on the mesh's own workerd: wrangler's dev proxy is not part of the mesh.
  const flat = curveFigures(memoryCurve, loadSeconds);
  const tooSteep = flatBoundMb !== null && flat.growthAfterWarmup > flatBoundMb * 1e6;
  const summary = [
    `soak: ${minutes} min, seed ${seed}, ${rate} events/s target, ${TOPICS.length} topics${without.size > 0 ? `, without ${[...without].join(", ")}` : ""}`,
    `events published (acknowledged): ${acks.length} (${(acks.length / loadSeconds).toFixed(0)} events/s held); publish attempts retried: ${publishers.reduce((n, p) => n + p.failedAttempts.count, 0)}, answered as already stored: ${publishers.reduce((n, p) => n + p.duplicates.count, 0)}`,
    `server restarts: ${restarts.kill} SIGKILL, ${restarts.graceful} graceful (one is the drain's); workerd RSS max ${(rssMax / 1e6).toFixed(0)} MB`,
    ...curveLines(memoryCurve, loadSeconds),
    ...(flatBoundMb === null
      ? []
      : [`flat memory (mesh workerd at most +${flatBoundMb} MB after warm-up): ${tooSteep ? "NO" : "yes"}`]),
    `delivered, websocket: ${sum(wsReports, "distinct")} to ${allFollowers.length} subscribers; reconnects ${allFollowers.reduce((n, f) => n + f.connections - 1, 0)} (cuts: ${cuts.serverClose} server closes, ${cuts.reset} resets, ${cuts.client} client reconnects)`,
    `delivered, webhook: ${sum(hookReports, "distinct")} events in ${receiver.requests.length} requests; retries after ${webhookFailures} failed requests (${receiver.count("error")} 500, ${receiver.count("close")} dropped, ${receiver.count("timeout")} timed out); redelivered ${sum(hookReports, "redelivered")}`,
    `delivered, queue: ${sum(queueReports, "distinct")} consumer effects; ${queueCalls.failed} failed calls retried; redelivered ${sum(queueReports, "redelivered")}`,
    `dead letters: webhook ${count(deadLettered.hook)}, queue ${count(deadLettered.queue)}, all redriven and delivered`,
    `queue messages the local queue simulator dropped on restarts (held in memory there), recovered by seeking the subscription back: ${[...droppedByLocalQueue.values()].reduce((a, b) => a + b, 0)}`,
    `lost: ${lost}`,
    `duplicated in the log: ${duplicatedInLog}`,
    `out of order: ${outOfOrder}`,
    `unexpected deliveries: ${unexpected}`,
    complete ? "drain: complete" : "drain: INCOMPLETE after 5 min",
  ];
  const ok =
    complete && violations.length === 0 && lost === 0 && duplicatedInLog === 0 && outOfOrder === 0 && !tooSteep;
  summary.push(ok ? "result: PASS" : `result: FAIL\n${violations.slice(0, 20).join("\n")}`);
  console.log(`\n${summary.join("\n")}`);
  writeFileSync("test-output/soak/last-summary.txt", `${summary.join("\n")}\n`);
  exitCode = ok ? 0 : 1;
} catch (err) {
  console.error(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n${server.log}`);
} finally {
  inspector.close();
  await server.dispose();
  await receiver.stop();
  await effectsServer.stop();
  config.remove();
  rmSync(bundleDir, { recursive: true, force: true });
}
process.exit(exitCode);
