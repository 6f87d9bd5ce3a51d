import { afterAll, beforeAll, expect, it } from "vitest";
import type { PutSubscriptionResponse } from "../../protocol/subscriptions.ts";
import { ChildServer } from "../support/child-server.ts";
import { configWithRateLimit } from "../support/config-copy.ts";
import { ADMIN_AUTH } from "../support/credentials.ts";
import { checkAcks, checkDeliveries, checkLog, readLog, seqsUpTo, violationsOf } from "../support/invariants.ts";
import { eventually, follow, sleep, type TrackedPublisher, trackedPublisher } from "../support/parties.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

// Scenario 1: the local server is SIGKILLed (wrangler and workerd at once, no shutdown) while
// several publishers stream events with the SDK, and started again on the same persisted state.
const config = configWithRateLimit("reliability-crash", 1_000_000);
const server = new ChildServer({ config: config.path });
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
  const put = await fetch(`${server.url}/v1/topics/${topic}/subscriptions/audit`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...ADMIN_AUTH },
    // A delivery cut by a crash is sent again once its lease (timeout + 5 s) ends.
    body: JSON.stringify({
      target: { type: "webhook", url: hook, timeoutMs: 1_000 },
      start: "earliest",
      batchSize: 5,
      retry: { maxAttempts: 100, firstDelayMs: 50, maxDelayMs: 500 },
    }),
  });
  expect(put.status).toBe(201);
  receiver.update("crash", { secret: ((await put.json()) as PutSubscriptionResponse).secret });
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

  let acksAtCrash: number[] = [];
  for (let crash = 0; crash < CRASHES; crash++) {
    // Wait until the stream is well under way again, then cut it dead.
    const before = publishers.reduce((n, p) => n + p.acks.length, 0);
    await eventually(
      () => publishers.reduce((n, p) => n + p.acks.length, 0) >= before + 150,
      "publishers have made progress",
    );
    acksAtCrash = [...acksAtCrash, publishers.reduce((n, p) => n + p.acks.length, 0)];
    await server.crashAndRestart();
  }
  const after = publishers.reduce((n, p) => n + p.acks.length, 0);
  await eventually(
    () => publishers.reduce((n, p) => n + p.acks.length, 0) >= after + 100,
    "progress after the last crash",
  );
  streaming = false;
  await Promise.all(streams);

  const { head, events } = await readLog(server.url, topic);
  await eventually(() => live.subscription.lastSeq >= head, "the live subscriber reaches the head", 30_000);
  await eventually(
    () => new Set(receiver.acceptedSeqs("crash")).size >= head,
    "the webhook has every event",
    60_000,
    () => `${new Set(receiver.acceptedSeqs("crash")).size} of ${head}`,
  );
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
