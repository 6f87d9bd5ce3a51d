import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { CLOSE } from "../../protocol/close-codes.ts";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";
import { adminApi } from "../support/admin-api.ts";
import { ChildServer } from "../support/child-server.ts";
import { configWithRateLimits } from "../support/config-copy.ts";
import { checkDeliveries, checkLog, seqsUpTo, violationsOf } from "../support/invariants.ts";
import { follow, sleep, trackedPublisher } from "../support/parties.ts";
import { eventSeqs, RawWebSocket } from "../support/raw-ws.ts";
import { subscriberToken } from "../support/subscriber-token.ts";

// Scenario 6: subscribers that never read while a topic takes 1,000 events/s. Without flow control
// workerd queued every frame for them (its memory grew by the whole stream per such socket); with
// it each gets at most LIVE_MAX_UNACKED_CHARS, is closed with 1013 once stalled, and resumes. Half
// of them also send forged acks all along: acks name marks they never read, so they gain nothing.
const config = configWithRateLimits("reliability-slow", 1_000_000);
const server = new ChildServer({ config: config.path, vars: { LIVE_STALL_SECONDS: "3" } });
beforeAll(() => server.start());
afterAll(async () => {
  await server.dispose();
  config.remove();
});

/** `SLOW_READER_STUCK=0` runs the control: the same load and reader with no stuck peer. */
const STUCK = Number(process.env.SLOW_READER_STUCK ?? 6);
/** Of the stuck peers, these also acknowledge what they never read, with forged acks. */
const LIARS = 3;
const SECONDS = 10;
const PER_SECOND = 1_000;
const payload = "x".repeat(2_000);
/**
 * What workerd grows by under this load with no stuck peer at all (the control above), in both of
 * its processes. Measured 2026-11-30 on this 2-core machine after the hubs' fix (Outbox and window
 * release what hubs hold): 84-91 MB; with the six stuck peers 68-101 MB. It is the mesh isolate's heap
 * growing between full collections: its live heap after one is 4.3 MB, and forcing one takes the
 * mesh's process back by about 40 MB. Before hubs the control grew 45 MB; the hop from topic to
 * hub copies every event into the hub's isolate and builds its frames there, which doubles what
 * the isolate allocates per event. See docs/reliability.md (flow control on live sockets).
 */
const CONTROL_GROWTH = 120e6;

it("keeps memory bounded for peers that stop reading, sheds them with 1013, and they resume from their cursor", async () => {
  const topic = "firehose";
  const port = Number(new URL(server.url).port);
  const stuck: RawWebSocket[] = [];
  for (let i = 0; i < STUCK; i++) {
    const ws = await RawWebSocket.open(port, `/v1/topics/${topic}/ws?after=0&token=${await subscriberToken([topic])}`);
    expect(ws.status).toContain("101");
    ws.pause();
    stuck.push(ws);
  }
  const liars = stuck.slice(0, LIARS);
  const forge = setInterval(() => {
    for (const ws of liars) ws.sendText("ack:999999999999999");
  }, 100);
  // A subscriber that reads (the real client, which acks) is kept up throughout.
  const reader = follow(server.url, topic);
  await vi.waitFor(() => expect(reader.subscription.state).toBe("live"), { timeout: 60_000 });

  const publisher = trackedPublisher(() => server.url, "/slow-reader");
  const rssBefore = server.workerdRssBytes();
  let rssMax = rssBefore;
  for (let second = 0; second < SECONDS; second++) {
    const started = Date.now();
    for (let batch = 0; batch < PER_SECOND / 100; batch++) {
      await publisher.publish(
        topic,
        Array.from({ length: 100 }, () => ({ type: "Tick", data: { payload } })),
      );
    }
    rssMax = Math.max(rssMax, server.workerdRssBytes());
    await sleep(1_000 - (Date.now() - started));
  }
  clearInterval(forge);
  const published = PER_SECOND * SECONDS;
  const publishedChars = published * (payload.length + 200);
  const growth = rssMax - rssBefore;
  console.log(
    `slow readers: ${STUCK} stuck sockets (${LIARS} forging acks), ${published} events (${(publishedChars / 1e6).toFixed(0)} MB) published; workerd RSS ${(rssBefore / 1e6).toFixed(0)} → max ${(rssMax / 1e6).toFixed(0)} MB`,
  );
  // Unbounded queues would hold the stream once per stuck socket (about 130 MB here) on top of the
  // control's growth; bounded ones hold at most the limit each (about 13 MB for the six; the runs
  // above put them about 10 MB over the control).
  expect(growth).toBeLessThan(CONTROL_GROWTH + (STUCK * publishedChars) / 4);

  await vi.waitFor(() => expect(reader.subscription.lastSeq).toBe(published), { timeout: 30_000 });
  // It acked as it read: never stopped, never shed, one connection throughout.
  expect(reader.connections).toBe(1);

  // Each stuck peer now reads what was queued for it: at most the limit (plus the batch that
  // crossed it), then the 1013 close that shed it.
  for (const ws of stuck) ws.resume();
  for (const ws of stuck) await ws.closed(30_000);
  const limit = DEFAULT_LIMITS.liveMaxUnackedChars;
  for (const ws of stuck) {
    expect(ws.closeCode).toBe(CLOSE.tryAgainLater);
    expect(ws.chars).toBeLessThan(limit + 100 * (payload.length + 300));
    expect(ws.chars).toBeGreaterThan(limit / 2);
  }

  // Resuming from its cursor, each gets exactly the rest.
  const log = await adminApi(server).readLog(topic);
  const reports = [
    checkLog(topic, log.head, log.events),
    checkDeliveries("reader", reader.seqs, { expected: seqsUpTo(log.head) }),
  ];
  for (const [i, ws] of stuck.entries()) {
    const seen = eventSeqs(ws.texts);
    expect(seen).toEqual(seqsUpTo(seen.length));
    const resumed = follow(server.url, topic, { after: seen.length });
    await vi.waitFor(() => expect(resumed.subscription.lastSeq, `stuck peer ${i}`).toBe(log.head), { timeout: 30_000 });
    resumed.close();
    reports.push(checkDeliveries(`stuck ${i}`, [...seen, ...resumed.seqs], { expected: seqsUpTo(log.head) }));
  }
  reader.close();
  expect(log.head).toBe(published);
  expect(violationsOf(...reports)).toEqual([]);
});
