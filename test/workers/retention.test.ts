import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LogStore } from "../../durable-objects/log-store.ts";
import { Retention, TRIM_CHUNK_ROWS } from "../../durable-objects/retention.ts";
import type { RetentionPolicy } from "../../durable-objects/retention-planner.ts";
import { allEvents, event, freshTopic, history, info, publish, request, topicStub } from "./topic-client.ts";

const DAY = 86_400_000;
const RETENTION_AGE = 7 * DAY; // RETENTION_MAX_AGE_SECONDS in wrangler.toml
const DEDUP_WINDOW = DAY; // DEDUP_WINDOW_SECONDS

/** Moves the clock the Worker and the Durable Object read (they share the test's isolate). */
function moveClock(ms: number): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

const alarmAt = (topic: string) => runInDurableObject(topicStub(topic), (_i, state) => state.storage.getAlarm());

afterEach(() => {
  vi.useRealTimers();
});

describe("retention by age, trimmed by the alarm", () => {
  it("the first publish arms the alarm; before it is due the alarm trims nothing", async () => {
    const topic = freshTopic("not-due");
    await publish(topic, [event("a"), event("b")]);
    expect(await alarmAt(topic)).toBeGreaterThan(Date.now());
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    expect(await info(topic)).toMatchObject({ head: 2, oldest: 1, eventCount: 2 });
    // It re-armed itself for the next trim.
    expect(await alarmAt(topic)).not.toBeNull();
  });

  it("drops events older than the retention age, keeps the rest, and history says where the log starts", async () => {
    const topic = freshTopic("age");
    await publish(topic, [event("old1"), event("old2"), event("old3")]);
    moveClock(RETENTION_AGE + DAY);
    await publish(topic, [event("new1"), event("new2")]);
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);

    expect(await info(topic)).toMatchObject({ head: 5, oldest: 4, eventCount: 2 });
    // A cursor inside the trimmed range is answered explicitly, never by skipping.
    const expired = await request(`/v1/topics/${topic}/events?after=1`);
    expect(expired.status).toBe(410);
    expect(await expired.json()).toEqual({
      error: {
        code: "cursor_expired",
        message: "events after 1 are no longer retained; the oldest retained seq is 4: read from after=3",
        oldest: 4,
        head: 5,
      },
    });
    expect((await request(`/v1/topics/${topic}/events`)).status).toBe(410);
    const page = await history(topic, "after=3");
    expect(page.events.map((e) => [e.seq, e.id])).toEqual([
      [4, "new1"],
      [5, "new2"],
    ]);
    // The sequence continues after the head, never reusing a trimmed seq.
    expect((await publish(topic, event("new3"))).events[0].seq).toBe(6);
  });

  it("trimming every event keeps the head: the log is empty and the sequence continues", async () => {
    const topic = freshTopic("all");
    await publish(topic, [event("x1"), event("x2")]);
    moveClock(RETENTION_AGE + DAY);
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    expect(await info(topic)).toMatchObject({ head: 2, oldest: 3, eventCount: 0 });
    expect(await history(topic, "after=2")).toMatchObject({ events: [], next: 2, more: false });
    expect((await request(`/v1/topics/${topic}/events?after=1`)).status).toBe(410);
    expect((await publish(topic, event("x3"))).events[0].seq).toBe(3);
  });

  it("forgets dedup keys after the dedup window, and stops the alarm once nothing is left to trim", async () => {
    const topic = freshTopic("quiet");
    await publish(topic, event("k"));
    moveClock(RETENTION_AGE + DAY);
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    // No events and no dedup keys: no alarm until the next publish.
    expect(await alarmAt(topic)).toBeNull();
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(false);
    const again = await publish(topic, event("k"));
    expect(again.events[0]).toMatchObject({ seq: 2, duplicate: false });
    expect(await alarmAt(topic)).not.toBeNull();
  });

  it("keeps dedup keys inside the window even when their events were trimmed", async () => {
    const topic = freshTopic("dedup-outlives");
    await publish(topic, event("d1"));
    await retentionStep(topic, { maxEvents: 0 });
    expect(await info(topic)).toMatchObject({ head: 1, eventCount: 0 });
    expect((await publish(topic, event("d1"))).events[0]).toMatchObject({ seq: 1, duplicate: true });
  });

  it("sleeps until the next expiry instead of waking on a timer", async () => {
    const topic = freshTopic("sleeps");
    const publishedAt = Date.now();
    await publish(topic, event("s1"));
    // The first thing to expire is the dedup key (24 h), long before the event (7 days).
    expect(await alarmAt(topic)).toBeGreaterThanOrEqual(publishedAt + DEDUP_WINDOW);
    moveClock(DEDUP_WINDOW + 1_000);
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    expect(await info(topic)).toMatchObject({ eventCount: 1 });
    expect(await alarmAt(topic)).toBeGreaterThanOrEqual(publishedAt + RETENTION_AGE);
  });
});

/** Policy of the tests below: the deployment's, with the limits a test sets. */
const POLICY: RetentionPolicy = {
  maxAgeSeconds: RETENTION_AGE / 1000,
  maxEvents: 1_000_000,
  maxBytes: 1024 ** 3,
  dedupWindowSeconds: DEDUP_WINDOW / 1000,
  protectSubscriptions: false,
};

/**
 * One retention step on the topic object's own log store (the single writer), under `policy`;
 * `floor` stands for the lowest subscription cursor.
 */
function retentionStep(topic: string, policy: Partial<RetentionPolicy>, floor: number | null = null) {
  return runInDurableObject(topicStub(topic), (instance) => {
    const { store } = instance as unknown as { store: LogStore };
    return new Retention(store, { ...POLICY, ...policy }, () => floor).step(Date.now());
  });
}

const batch = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => event(`${prefix}${i + 1}`));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The stored size of each retained event, oldest first: its JSON, as the log keeps it. */
async function storedSizes(topic: string): Promise<number[]> {
  return (await allEvents(topic)).map((e) => JSON.stringify(e).length);
}

describe("retention by count and by bytes", () => {
  it("keeps the newest maxEvents events, a contiguous suffix", async () => {
    const topic = freshTopic("count");
    await publish(topic, batch("c", 10));
    expect(await retentionStep(topic, { maxEvents: 3 })).toMatchObject({ removed: 7 });
    expect(await info(topic)).toMatchObject({ head: 10, oldest: 8, eventCount: 3 });
    expect((await history(topic, "after=7")).events.map((e) => e.seq)).toEqual([8, 9, 10]);
  });

  it("applies whichever limit cuts more", async () => {
    const topic = freshTopic("both");
    await publish(topic, batch("o", 4));
    moveClock(2 * DAY);
    await publish(topic, batch("n", 2));
    expect(await retentionStep(topic, { maxAgeSeconds: 86400, maxEvents: 5 })).toMatchObject({ removed: 4 });
    expect(await retentionStep(topic, { maxAgeSeconds: 86400, maxEvents: 1 })).toMatchObject({ removed: 1 });
    expect(await info(topic)).toMatchObject({ head: 6, oldest: 6 });
  });

  it("keeps the stored bytes under maxBytes, dropping the oldest events first", async () => {
    const topic = freshTopic("bytes");
    await publish(topic, batch("b", 10));
    const sizes = await storedSizes(topic);
    expect((await info(topic)).bytes).toBe(sum(sizes));
    // Room for exactly the four newest events.
    const limit = sum(sizes.slice(-4)) + 1;
    await retentionStep(topic, { maxBytes: limit });
    expect(await info(topic)).toMatchObject({ head: 10, oldest: 7, eventCount: 4, bytes: limit - 1 });
  });

  it("cuts a large excess in bounded chunks, each its own step, and says the next is due at once", async () => {
    const topic = freshTopic("chunks");
    for (let i = 0; i < 25; i++) await publish(topic, batch(`k${i}-`, 100));
    const first = await retentionStep(topic, { maxEvents: 100 });
    expect(first).toMatchObject({ removed: TRIM_CHUNK_ROWS, nextAt: expect.any(Number) });
    expect(first.nextAt).toBeLessThanOrEqual(Date.now());
    const second = await retentionStep(topic, { maxEvents: 100 });
    expect(second.removed).toBe(TRIM_CHUNK_ROWS);
    const third = await retentionStep(topic, { maxEvents: 100 });
    expect(third.removed).toBe(400);
    expect(third.nextAt).toBeGreaterThan(Date.now());
    expect(await info(topic)).toMatchObject({ head: 2500, oldest: 2401, eventCount: 100 });
  });
});

describe("retention that protects durable subscriptions", () => {
  it("keeps events a subscription has not passed, past the age and count limits", async () => {
    const topic = freshTopic("protect");
    await publish(topic, batch("p", 10));
    const held = await retentionStep(topic, { maxEvents: 2, protectSubscriptions: true }, 4);
    expect(held).toMatchObject({ removed: 4, heldBySubscription: true });
    expect(await info(topic)).toMatchObject({ oldest: 5, eventCount: 6 });
    // Without protection the count limit alone decides.
    expect(await retentionStep(topic, { maxEvents: 2 }, 4)).toMatchObject({ removed: 4, heldBySubscription: false });
  });

  it("still keeps the byte limit, so a dead subscriber cannot fill the object", async () => {
    const topic = freshTopic("protect-cap");
    await publish(topic, batch("q", 10));
    const limit = sum((await storedSizes(topic)).slice(-3)) + 1;
    await retentionStep(topic, { maxEvents: 2, maxBytes: limit, protectSubscriptions: true }, 0);
    expect(await info(topic)).toMatchObject({ oldest: 8, eventCount: 3 });
  });
});
