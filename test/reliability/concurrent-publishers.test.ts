import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { adminApi } from "../support/admin-api.ts";
import { configWithRateLimits } from "../support/config-copy.ts";
import {
  type Ack,
  checkAcks,
  checkDeliveries,
  checkLog,
  type LoggedEvent,
  seqsUpTo,
  violationsOf,
} from "../support/invariants.ts";
import { LocalServer } from "../support/local-server.ts";
import { type Follower, follow, trackedPublisher } from "../support/parties.ts";

// Scenario 3: 100 publishers at once, all on one topic, then spread over 100 topics. Each
// publisher awaits each answer before its next publish, so its own events have a known order.
const config = configWithRateLimits("reliability-concurrent", 1_000_000);
const server = new LocalServer({ config: config.path });
const api = adminApi(server);
beforeAll(() => server.start());
afterAll(async () => {
  await server.dispose();
  config.remove();
});

const PUBLISHERS = 100;

/** Per publisher, its acks in the order it published: the seqs must rise (append order). */
function appendOrderViolations(acksByPublisher: Ack[][]): string[] {
  const violations: string[] = [];
  for (const acks of acksByPublisher) {
    const byTopic = new Map<string, Ack[]>();
    for (const ack of acks) byTopic.set(ack.topic, [...(byTopic.get(ack.topic) ?? []), ack]);
    for (const [topic, list] of byTopic) {
      for (let i = 1; i < list.length; i++) {
        if (list[i].seq <= list[i - 1].seq) {
          violations.push(
            `${topic}: ${list[i].source} published ${list[i].id} after ${list[i - 1].id} but got a lower seq`,
          );
        }
      }
    }
  }
  return violations;
}

/** Every subscriber of a topic saw the same (seq, id) pairs as the log holds, in log order. */
function sameSequence(topic: string, events: LoggedEvent[], followers: Follower[]): string[] {
  const log = events.map((e) => `${e.seq}:${e.id}`).join(",");
  return followers.flatMap((f, i) =>
    f.events.map(([seq, id]) => `${seq}:${id}`).join(",") === log
      ? []
      : [`${topic}: subscriber ${i} saw another sequence`],
  );
}

describe("100 concurrent publishers", () => {
  it("to one topic: contiguous seqs, each publisher's events in its order, every subscriber the same sequence", async () => {
    const topic = "crowd";
    const followers = [follow(server.url, topic), follow(server.url, topic), follow(server.url, topic)];
    await vi.waitFor(() => expect(followers.map((f) => f.subscription.state)).toEqual(["live", "live", "live"]), {
      timeout: 60_000,
    });
    const publishers = Array.from({ length: PUBLISHERS }, (_, p) => trackedPublisher(() => server.url, `/crowd/${p}`));
    await Promise.all(
      publishers.map(async (publisher, p) => {
        for (let n = 0; n < 10; n++) await publisher.publish(topic, [{ type: "Vote", data: { p, n } }]);
        await publisher.publish(
          topic,
          [0, 1, 2, 3, 4].map((i) => ({ type: "Vote", data: { p, n: 10 + i } })),
        );
      }),
    );
    const { head, events } = await api.readLog(topic);
    expect(head).toBe(PUBLISHERS * 15);
    await vi.waitFor(() => expect(followers.map((f) => f.subscription.lastSeq)).toEqual([head, head, head]), {
      timeout: 60_000,
    });
    for (const f of followers) f.close();

    const acks = publishers.flatMap((p) => p.acks);
    expect(
      violationsOf(
        checkLog(topic, head, events),
        checkAcks(acks, new Map([[topic, events]])),
        ...followers.map((f, i) => checkDeliveries(`subscriber ${i}`, f.seqs, { expected: seqsUpTo(head) })),
        { violations: appendOrderViolations(publishers.map((p) => p.acks)) },
        { violations: sameSequence(topic, events, followers) },
      ),
    ).toEqual([]);
  });

  it("to 100 topics at random: per topic the same guarantees, two subscribers each", async () => {
    const topics = Array.from({ length: 100 }, (_, t) => `spread.t${t}`);
    const followers = new Map(topics.map((t) => [t, [follow(server.url, t), follow(server.url, t)]]));
    const all = [...followers.values()].flat();
    await vi.waitFor(() => expect(all.filter((f) => f.subscription.state !== "live")).toHaveLength(0), {
      timeout: 60_000,
    });
    const publishers = Array.from({ length: PUBLISHERS }, (_, p) => trackedPublisher(() => server.url, `/spread/${p}`));
    await Promise.all(
      publishers.map(async (publisher, p) => {
        for (let n = 0; n < 12; n++) {
          const topic = topics[(p * 7 + n * 13) % topics.length];
          const count = n % 3 === 2 ? 3 : 1;
          await publisher.publish(
            topic,
            Array.from({ length: count }, (_, i) => ({ type: "Spread", data: { p, n, i } })),
          );
        }
      }),
    );
    const acks = publishers.flatMap((p) => p.acks);
    const logs = new Map<string, LoggedEvent[]>();
    const reports = [];
    for (const topic of topics) {
      const { head, events } = await api.readLog(topic);
      logs.set(topic, events);
      const subs = followers.get(topic) ?? [];
      await vi.waitFor(
        () =>
          expect(
            subs.map((f) => f.subscription.lastSeq),
            topic,
          ).toEqual([head, head]),
        {
          timeout: 60_000,
        },
      );
      reports.push(
        checkLog(topic, head, events),
        ...subs.map((f, i) => checkDeliveries(`${topic} subscriber ${i}`, f.seqs, { expected: seqsUpTo(head) })),
        { violations: sameSequence(topic, events, subs) },
      );
    }
    for (const f of all) f.close();
    expect([...logs.values()].reduce((n, e) => n + e.length, 0)).toBe(acks.length);
    expect(acks.length).toBe(PUBLISHERS * 20);
    expect(
      violationsOf(...reports, checkAcks(acks, logs), {
        violations: appendOrderViolations(publishers.map((p) => p.acks)),
      }),
    ).toEqual([]);
  });
});
