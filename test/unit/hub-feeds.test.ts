import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HEAD_SAVE_MS, HubFeeds, type TopicSide } from "../../durable-objects/hub-feeds.ts";
import type { FeedRow, HubStore } from "../../durable-objects/hub-store.ts";
import type { StoredRow } from "../../durable-objects/log-store.ts";

const row = (seq: number): StoredRow => ({ seq, type: "Thing", body: `{"seq":${seq}}` });

/** The hub's `feeds` table in memory, with every write it was given. */
class FakeStore {
  rows = new Map<string, FeedRow>();
  writes: FeedRow[] = [];
  feed = (topic: string) => this.rows.get(topic) ?? null;
  putFeed = (feed: FeedRow) => {
    this.rows.set(feed.topic, { ...feed });
    this.writes.push({ ...feed });
  };
  deleteFeed = (topic: string) => void this.rows.delete(topic);
}

const topicSide: TopicSide = {
  attachHub: async () => ({ epoch: "e1", head: 0, oldest: 1 }),
  readPage: async () => {
    throw new Error("not read in these tests");
  },
};

function setUp() {
  const store = new FakeStore();
  const feeds = new HubFeeds(
    store as unknown as HubStore,
    () => topicSide,
    () => "hub-0",
    { windowEvents: 100, windowChars: 100_000, pageSize: 100 },
    () => undefined,
  );
  /** Pushes rows `from`..`to` of topic t as the topic does, and saves the head as the hub does after sending. */
  const push = async (from: number, to: number) => {
    const rows = Array.from({ length: to - from + 1 }, (_, i) => row(from + i));
    const { result } = await feeds.apply({ topic: "t", epoch: "e1", prev: from - 1, rows, head: to }, () => 1);
    expect(result).toMatchObject({ ok: true, head: to });
    const feed = feeds.get("t");
    if (feed) feeds.saveHead(feed);
  };
  return { store, feeds, push };
}

describe("a hub's head in a topic", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("is written once for the pushes of HEAD_SAVE_MS, not in the turn that applied them", async () => {
    const { store, feeds, push } = setUp();
    await feeds.ready("t");
    expect(store.writes).toEqual([{ topic: "t", epoch: "e1", head: 0 }]);

    await push(1, 3);
    await push(4, 4);
    await push(5, 9);
    expect(store.writes).toHaveLength(1);

    vi.advanceTimersByTime(HEAD_SAVE_MS);
    expect(store.writes).toEqual([
      { topic: "t", epoch: "e1", head: 0 },
      { topic: "t", epoch: "e1", head: 9 },
    ]);

    await push(10, 10);
    vi.advanceTimersByTime(HEAD_SAVE_MS);
    expect(store.rows.get("t")).toEqual({ topic: "t", epoch: "e1", head: 10 });
    expect(store.writes).toHaveLength(3);
  });

  it("is not written back for a topic the hub forgot meanwhile", async () => {
    const { store, feeds, push } = setUp();
    await feeds.ready("t");
    await push(1, 2);
    feeds.forget("t");
    vi.advanceTimersByTime(HEAD_SAVE_MS);
    expect(store.rows.has("t")).toBe(false);
  });
});
