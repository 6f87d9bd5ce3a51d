import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { PutSubscriptionResponse } from "../../protocol/subscriptions.ts";
import { adminApi } from "../support/admin-api.ts";
import { ChildServer } from "../support/child-server.ts";
import { configWithRateLimits } from "../support/config-copy.ts";
import { checkAcks, checkDeliveries, checkLog, seqsUpTo, violationsOf } from "../support/invariants.ts";
import { follow, sleep, type TrackedPublisher, trackedPublisher } from "../support/parties.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

// Scenario 1: the local server is SIGKILLed (wrangler and workerd at once, no shutdown) while
// several publishers stream events with the SDK, and started again on the same persisted state.
const config = configWithRateLimits("reliability-crash", 1_000_000);
const server = new ChildServer({ config: config.path });
const api = adminApi(server);
const receiver = new WebhookReceiver();
beforeAll(async () => {
  await receiver.start();
  await server.start();
});
afterAll(async () => {
  await server.dispose();
  await receiver.stop();
  config.remove();
});

const PUBLISHERS = 4;
const CRASHES = 3;

it("keeps every acknowledged event exactly once through SIGKILLs mid-stream; subscribers resume with no gap", async () => {
  const topic = "crash.orders";
  const hook = receiver.endpoint("crash");
  const put = await api.json<PutSubscriptionResponse>("PUT", `/v1/topics/${topic}/subscriptions/audit`, {
    // A delivery cut by a crash is sent again once its lease (timeout + 5 s) ends.
    target: { type: "webhook", url: hook, timeoutMs: 1_000 },
    start: "earliest",
    batchSize: 5,
    retry: { maxAttempts: 100, firstDelayMs: 50, maxDelayMs: 500 },
  });
  receiver.update("crash", { secret: put.secret });
  const live = follow(server.url, topic);

  let streaming = true;
  const publishers: TrackedPublisher[] = [];
  const streams = Array.from({ length: PUBLISHERS }, async (_, p) => {
    const publisher = trackedPublisher(() => server.url, `/crash/publisher-${p}`);
    publishers.push(publisher);
    for (let n = 0; streaming; n++) {
      // Singles and batches of three, so a crash can cut either.
      const count = n % 4 === 3 ? 3 : 1;
      await publisher.publish(
        topic,
        Array.from({ length: count }, (_, i) => ({ type: "OrderPlaced", data: { publisher: p, n, i } })),
      );
      await sleep(5);
    }
  });

  const acked = () => publishers.reduce((n, p) => n + p.acks.length, 0);
  /** Waits until the publishers have had `more` events acknowledged since now. */
  const progress = async (more: number) => {
    const before = acked();
    await vi.waitFor(() => expect(acked()).toBeGreaterThanOrEqual(before + more), { timeout: 60_000 });
  };
  await progress(1);
  const { epoch } = await api.info(topic);
  let acksAtCrash: number[] = [];
  for (let crash = 0; crash < CRASHES; crash++) {
    // Wait until the stream is well under way again, then cut it dead.
    await progress(150);
    acksAtCrash = [...acksAtCrash, acked()];
    await server.crashAndRestart();
  }
  await progress(100);
  streaming = false;
  await Promise.all(streams);

  const { head, events } = await api.readLog(topic);
  // The restarts kept the topic's epoch: no subscriber was told to start over.
  expect((await api.info(topic)).epoch).toBe(epoch);
  await vi.waitFor(() => expect(live.subscription.lastSeq).toBeGreaterThanOrEqual(head), { timeout: 30_000 });
  await vi.waitFor(() => expect(new Set(receiver.acceptedSeqs("crash")).size).toBeGreaterThanOrEqual(head), {
    timeout: 60_000,
  });
  live.close();

  const acks = publishers.flatMap((p) => p.acks);
  const failedAttempts = publishers.reduce((n, p) => n + p.failedAttempts.count, 0);
  const duplicates = publishers.reduce((n, p) => n + p.duplicates.count, 0);
  console.log(
    `crash-restart: ${CRASHES} SIGKILLs at ${acksAtCrash.join(", ")} acks; ${acks.length} events acknowledged, head ${head}; ` +
      `${failedAttempts} publish attempts failed and were retried, ${duplicates} retries found their event already stored; ` +
      `live subscriber connected ${live.connections} times; webhook got ${receiver.acceptedSeqs("crash").length} events for ${head} seqs`,
  );
  // The crashes really cut the stream: publishers had to retry, and the subscriber reconnected.
  expect(failedAttempts).toBeGreaterThan(0);
  expect(live.connections).toBeGreaterThan(CRASHES);
  expect(server.starts).toBe(CRASHES + 1);
  expect(
    violationsOf(
      checkLog(topic, head, events),
      checkAcks(acks, new Map([[topic, events]])),
      checkDeliveries("live subscriber", live.seqs, { expected: seqsUpTo(head) }),
      checkDeliveries("webhook", receiver.acceptedSeqs("crash"), { expected: seqsUpTo(head) }),
    ),
  ).toEqual([]);
  // Every stored event was acknowledged to its publisher: none got lost on the way back either.
  expect(new Set(acks.map((a) => a.seq)).size).toBe(head);
});
