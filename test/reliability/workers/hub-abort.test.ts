import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { SocketHub } from "../../../durable-objects/socket-hub.ts";
import { freshTopic } from "../../workers/topic-client.ts";
import {
  abortObject,
  firstHubOf,
  HubFollower,
  hubStub,
  keyAvoiding,
  publish,
  range,
  topicStub,
} from "./support/hub-follower.ts";

// Issue 15's proof "a hub aborted mid-stream and the topic object aborted mid-stream, each followed by
// gapless resume of every socket", and a socket moving to another hub, through the real Worker
// route (/v1/ws), the real hub and topic objects. REPLAY_PAGE_SIZE is 10 in the pool: a hub reads
// the topic's log in pages of 10. Followers keep every event they get, with no dedup: a duplicate
// fails the check as a gap does.

const WAIT = { timeout: 20_000, interval: 20 };

/** Publishes `total` events in batches of `batch` (the loop the aborts land in). */
async function publishLoop(topic: string, from: number, to: number, batch: number): Promise<void> {
  for (let seq = from; seq <= to; seq += batch) await publish(topic, Math.min(batch, to - seq + 1));
}

describe("a hub aborted mid-stream", () => {
  it("closes its sockets; each resumes from its own cursor on the hub's fresh instance, all 1..N once and in order", async () => {
    const topic = freshTopic("hab");
    const N = 120;
    await publish(topic, 10);
    const followers = Array.from({ length: 5 }, () => new HubFollower(topic, topic));
    for (const f of followers) await f.connect();
    await vi.waitFor(() => expect(followers.every((f) => f.caughtUps === 1)).toBe(true), WAIT);
    const hub = followers[0].hub;
    expect(followers.map((f) => f.hub)).toEqual(followers.map(() => hub));

    const loop = publishLoop(topic, 11, N, 2);
    // Mid-stream: the followers are live and events keep coming.
    await vi.waitFor(() => expect(Math.min(...followers.map((f) => f.last))).toBeGreaterThanOrEqual(30), WAIT);
    await abortObject(hubStub(hub));
    // Every socket of the aborted hub is closed under its follower.
    await Promise.all(followers.map((f) => f.closed));
    const cursors = followers.map((f) => f.last);
    expect(Math.max(...cursors)).toBeLessThan(N);

    // They come back through the Worker with the same key: the same hub, a fresh instance of it,
    // built from its SQLite. Sockets open first, then every subscribe goes out together, as a
    // page of browsers reconnecting after a hub's restart would.
    for (const f of followers) await f.connect(false);
    expect(followers.map((f) => f.hub)).toEqual(followers.map(() => hub));
    for (const f of followers) f.subscribe();
    await vi.waitFor(() => expect(followers.every((f) => f.caughtUps === 1)).toBe(true), WAIT);
    const { pulls } = await hubStub(hub).stats();
    await loop;
    await vi.waitFor(() => expect(followers.map((f) => f.last)).toEqual(followers.map(() => N)), WAIT);

    for (const f of followers) expect(f.seqs).toEqual(range(1, N));
    for (const f of followers) expect(f.hubs).toEqual([hub, hub]);
    // Identical reads of the topic's log in flight are one call: five sockets resuming from the
    // same cursor do not each read the topic.
    const distinct = new Set(cursors).size;
    console.log(`hub-abort: cursors at the abort ${cursors.join(",")}; the fresh hub read ${pulls} pages`);
    if (distinct === 1) expect(pulls).toBeLessThan(followers.length);
    for (const f of followers) f.close();
  });
  it("resumes exactly a socket whose replay the hub had stopped mid-way, and a filtered one, after the hub is aborted", async () => {
    const topic = freshTopic("hab2");
    const rare: number[] = [];
    for (let batch = 0; batch < 12; batch += 1) {
      const type = batch % 4 === 1 ? "Rare" : "Thing";
      await publish(topic, 5, type);
      if (type === "Rare") rare.push(...range(batch * 5 + 1, batch * 5 + 5));
    }
    const live = new HubFollower(topic, topic);
    const filtered = new HubFollower(topic, topic, ["Rare"]);
    for (const f of [live, filtered]) await f.connect();
    await vi.waitFor(() => expect([live.caughtUps, filtered.caughtUps]).toEqual([1, 1]), WAIT);
    const hub = live.hub;

    // A reader that stops acking, under a small allowance: the hub stops its replay part way.
    await runInDurableObject(hubStub(hub), (instance: SocketHub) => {
      (instance as unknown as { sender: { bounds: { maxUnackedChars: number } } }).sender.bounds.maxUnackedChars = 1500;
    });
    const slow = new HubFollower(topic, topic);
    slow.acking = false;
    await slow.connect();
    expect(slow.hub).toBe(hub);
    await vi.waitFor(() => expect(slow.unansweredMarks.length).toBeGreaterThan(0), WAIT);
    expect(slow.last).toBeGreaterThan(0);
    expect(slow.last).toBeLessThan(60);

    const loop = publishLoop(topic, 61, 100, 4);
    await abortObject(hubStub(hub));
    await Promise.all([live, filtered, slow].map((f) => f.closed));
    slow.acking = true;
    for (const f of [live, filtered, slow]) await f.resume();
    await loop;
    await publish(topic, 4, "Rare");
    rare.push(101, 102, 103, 104);
    await vi.waitFor(() => expect([live.last, filtered.last, slow.last]).toEqual([104, 104, 104]), WAIT);
    expect(live.seqs).toEqual(range(1, 104));
    expect(slow.seqs).toEqual(range(1, 104));
    expect(filtered.seqs).toEqual(rare);
    for (const f of [live, filtered, slow]) f.close();
  });
});

describe("the topic's object aborted mid-stream", () => {
  it("keeps the hub sockets open; with more publishes and the alarm's probe every socket gets every event once, in order", async () => {
    const topic = freshTopic("tab");
    const N = 100;
    await publish(topic, 5);
    const keyA = topic;
    const keyB = keyAvoiding(`${topic}-b`, [firstHubOf(keyA)]);
    const followers = [
      new HubFollower(topic, keyA),
      new HubFollower(topic, keyA),
      new HubFollower(topic, keyB),
      new HubFollower(topic, keyB),
      // Filtered: only this type, which every third batch carries.
      new HubFollower(topic, keyB, ["Rare"]),
    ];
    for (const f of followers) await f.connect();
    await vi.waitFor(() => expect(followers.every((f) => f.caughtUps === 1)).toBe(true), WAIT);
    const hubs = new Set(followers.map((f) => f.hub));
    expect(hubs.size).toBe(2);

    const rare: number[] = [];
    let seq = 5;
    let aborts = 0;
    for (let batch = 0; seq < N; batch += 1) {
      const count = Math.min(3, N - seq);
      const type = batch % 3 === 2 ? "Rare" : "Thing";
      const publishing = publish(topic, count, type);
      // Abort the topic's object while publishes and their pushes are under way, a few times.
      if (batch % 8 === 1) {
        await abortObject(topicStub(topic));
        aborts += 1;
      }
      await publishing;
      if (type === "Rare") rare.push(...range(seq + 1, seq + count));
      seq += count;
    }
    // Once more right after the last publish, and nothing published after: the tail may be in no
    // push at all. The restarted object's alarm (hubs_due) asks every hub where it stands.
    await abortObject(topicStub(topic));
    aborts += 1;
    await vi.waitFor(async () => {
      await runDurableObjectAlarm(topicStub(topic));
      for (const f of followers.slice(0, 4)) expect(f.last).toBe(N);
      expect(followers[4].last).toBe(rare.at(-1));
    }, WAIT);

    for (const f of followers) expect(f.open).toBe(true);
    for (const f of followers) expect(f.hubs).toHaveLength(1);
    for (const f of followers.slice(0, 4)) expect(f.seqs).toEqual(range(1, N));
    expect(followers[4].seqs).toEqual(rare);
    console.log(`topic-abort: ${aborts} aborts, hubs ${[...hubs].join(",")}, sockets never reconnected`);
    for (const f of followers) f.close();
  });
});

describe("a socket moving to another hub", () => {
  it("resumes exactly from a cursor outside the new hub's window, while events are published", async () => {
    const topic = freshTopic("hmove");
    await publish(topic, 40);
    // Two followers on hub A; they leave at 45, mid-stream.
    const movers = [new HubFollower(topic, topic), new HubFollower(topic, topic)];
    for (const m of movers) await m.connect();
    await vi.waitFor(() => expect(movers.every((m) => m.caughtUps === 1)).toBe(true), WAIT);
    const hubA = movers[0].hub;
    await publish(topic, 5);
    await vi.waitFor(() => expect(movers.map((m) => m.last)).toEqual([45, 45]), WAIT);
    for (const m of movers) m.close();
    // One of them had seen only the first 12 events (it resumes many pages back).
    movers[1].seqs.splice(12);
    await publish(topic, 10);

    // Hub B serves the topic from 55: its window starts there.
    const keyB = keyAvoiding(`${topic}-b`, [hubA]);
    const watcher = new HubFollower(topic, keyB);
    watcher.seqs.push(...range(1, 55));
    await watcher.connect();
    await vi.waitFor(() => expect(watcher.caughtUps).toBe(1), WAIT);
    const hubB = watcher.hub;
    expect(hubB).not.toBe(hubA);
    const pullsBefore = (await hubStub(hubB).stats()).pulls;

    const loop = publishLoop(topic, 56, 90, 1);
    for (const m of movers) {
      m.key = keyB;
      await m.resume();
      expect(m.hub).toBe(hubB);
    }
    await loop;
    await vi.waitFor(() => expect([...movers, watcher].map((f) => f.last)).toEqual([90, 90, 90]), WAIT);
    for (const f of [...movers, watcher]) expect(f.seqs).toEqual(range(1, 90));
    // Outside B's window: the older stretch was read from the topic's log.
    expect((await hubStub(hubB).stats()).pulls).toBeGreaterThan(pullsBefore);
    for (const f of [...movers, watcher]) f.close();
  });
});
