import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TopicLog } from "../../durable-objects/topic-log.ts";
import { captureLogsOfEachTest } from "./support/test-consumers.ts";
import { jsonInit, publishCount, request, subscriptionView, topicStub } from "./topic-client.ts";
import { ReceiverEndpoint } from "./webhook-receiver-client.ts";

const uniqueTopic = (name: string) => `catchup-${name}-${crypto.randomUUID().slice(0, 8)}`;
const logs = captureLogsOfEachTest();

/** Counts the topic object's alarm runs from now on (the runtime's own and the test's alike). */
async function countAlarmRuns(topic: string): Promise<() => Promise<number>> {
  await runInDurableObject(topicStub(topic), (instance: TopicLog) => {
    const counted = instance as unknown as { alarm: () => Promise<void>; alarmRuns: number };
    const alarm = instance.alarm.bind(instance);
    counted.alarmRuns = 0;
    counted.alarm = () => {
      counted.alarmRuns += 1;
      return alarm();
    };
  });
  return () =>
    runInDurableObject(
      topicStub(topic),
      (instance: TopicLog) => (instance as unknown as { alarmRuns: number }).alarmRuns,
    );
}

/** Looks (never sleeps) until `done` holds: the runtime's own alarm does the work being watched. */
async function watchUntil(done: () => Promise<boolean>, maxLooks = 3000): Promise<void> {
  for (let look = 0; look < maxLooks; look++) if (await done()) return;
  expect(await done(), `condition still false after ${maxLooks} looks`).toBe(true);
}

describe("strict order catch-up", () => {
  it("delivers a backlog in full batches, in order, in one alarm run without an idle gap", async () => {
    const topic = uniqueTopic("backlog");
    const hook = await ReceiverEndpoint.create("backlog");
    await publishCount(topic, 150, "/catch-up-test");
    const alarmRuns = await countAlarmRuns(topic);
    const put = await request(
      `/v1/topics/${topic}/subscriptions/lagging`,
      jsonInit("PUT", { target: { type: "webhook", url: hook.url }, start: "earliest", batchSize: 3 }),
    );
    expect(put.status).toBe(201);

    // The alarm the PUT armed runs once and keeps sending until the subscription is caught up.
    await watchUntil(async () => (await subscriptionView(topic, "lagging")).lag === 0);
    const requests = await hook.requests();
    expect(requests.map((r) => r.seqs.length)).toEqual(Array(50).fill(3));
    expect(await hook.acceptedSeqs()).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(await alarmRuns()).toBe(1);
    expect(await subscriptionView(topic, "lagging")).toMatchObject({
      cursor: 150,
      delivered: 150,
      nextAttemptAt: null,
    });
    // One line for the run of 50 batches; the cursor was written at checkpoints, not per batch.
    expect(logs.lines().filter((l) => l.msg === "delivered" && l.topic === topic)).toEqual([
      expect.objectContaining({ from: 1, to: 150, events: 150, batches: 50, attempt: 1 }),
    ]);
  });

  it("after a crash in the middle of catching up, delivers again from the last checkpoint, in order", async () => {
    const topic = uniqueTopic("crash");
    const hook = await ReceiverEndpoint.create("crash");
    await publishCount(topic, 40, "/catch-up-test");
    await request(
      `/v1/topics/${topic}/subscriptions/durable`,
      jsonInit("PUT", { target: { type: "webhook", url: hook.url }, start: "earliest" }),
    );
    // The object dies while it delivers the backlog, with deliveries done since the last checkpoint.
    await watchUntil(async () => (await hook.requests()).length >= 10);
    await runInDurableObject(topicStub(topic), (_instance, state) => state.abort("test crash")).catch(() => {});

    // The lease ran out (the test's alarm is "that time has come"): delivery goes on from the checkpoint.
    for (let run = 0; run < 20 && (await subscriptionView(topic, "durable")).lag > 0; run++) {
      await runDurableObjectAlarm(topicStub(topic));
    }
    expect(await subscriptionView(topic, "durable")).toMatchObject({ cursor: 40, lag: 0 });
    const seqs = await hook.acceptedSeqs();
    // At least once: every event arrived; a repeat only replays a stretch already sent, in order.
    expect(new Set(seqs)).toEqual(new Set(Array.from({ length: 40 }, (_, i) => i + 1)));
    const restart = seqs.findIndex((seq, i) => i > 0 && seq <= seqs[i - 1]);
    const tail = restart < 0 ? seqs : seqs.slice(restart);
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => tail[0] + i));
    expect(tail.at(-1)).toBe(40);
  });
});
