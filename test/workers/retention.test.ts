import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LogStore } from "../../durable-objects/log-store.ts";
import { event, freshTopic, history, info, publish, request, topicStub } from "./topic-client.ts";

const DAY = 86_400_000;
const RETENTION_AGE = 7 * DAY; // RETENTION_MAX_AGE_SECONDS in wrangler.toml

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
    // Trim everything through the store (a short count limit) but keep the dedup window.
    await runInDurableObject(topicStub(topic), (_i, state) =>
      new LogStore(state.storage.sql, state.storage).trim(Date.now(), {
        maxAgeSeconds: 604800,
        maxEvents: 0,
        dedupWindowSeconds: 86400,
      }),
    );
    expect(await info(topic)).toMatchObject({ head: 1, eventCount: 0 });
    expect((await publish(topic, event("d1"))).events[0]).toMatchObject({ seq: 1, duplicate: true });
  });
});

describe("retention by count (the trim policy of the log store)", () => {
  it("keeps the newest maxEvents events, a contiguous suffix", async () => {
    const topic = freshTopic("count");
    await publish(
      topic,
      Array.from({ length: 10 }, (_, i) => event(`c${i + 1}`)),
    );
    const removed = await runInDurableObject(topicStub(topic), (_i, state) =>
      new LogStore(state.storage.sql, state.storage).trim(Date.now(), {
        maxAgeSeconds: 604800,
        maxEvents: 3,
        dedupWindowSeconds: 86400,
      }),
    );
    expect(removed).toEqual({ removed: 7 });
    expect(await info(topic)).toMatchObject({ head: 10, oldest: 8, eventCount: 3 });
    expect((await history(topic, "after=7")).events.map((e) => e.seq)).toEqual([8, 9, 10]);
  });

  it("applies whichever limit cuts more", async () => {
    const topic = freshTopic("both");
    await publish(topic, [event("o1"), event("o2"), event("o3"), event("o4")]);
    moveClock(2 * DAY);
    await publish(topic, [event("n1"), event("n2")]);
    const outcome = await runInDurableObject(topicStub(topic), (_i, state) => {
      const store = new LogStore(state.storage.sql, state.storage);
      const byAge = store.trim(Date.now(), { maxAgeSeconds: 86400, maxEvents: 5, dedupWindowSeconds: 86400 });
      const byCount = store.trim(Date.now(), { maxAgeSeconds: 86400, maxEvents: 1, dedupWindowSeconds: 86400 });
      return { byAge, byCount, position: store.position() };
    });
    expect(outcome).toMatchObject({ byAge: { removed: 4 }, byCount: { removed: 1 }, position: { head: 6, oldest: 6 } });
  });
});
