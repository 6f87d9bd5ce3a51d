import { describe, expect, it } from "vitest";
import { type FanoutLog, HubFanout } from "../../durable-objects/hub-fanout.ts";
import type { HubPush, HubPushResult } from "../../durable-objects/hub-rpc.ts";
import type { LogPosition, StoredRow } from "../../durable-objects/log-store.ts";
import { PUSH_LIMITS, PUSH_TIMED_RETRIES } from "../../durable-objects/push-planner.ts";

const row = (seq: number): StoredRow => ({ seq, type: "Thing", body: `{"seq":${seq}}` });

/** The topic's log in memory: appends rows, trims a prefix. */
class FakeLog implements FanoutLog {
  rows: StoredRow[] = [];
  head = 0;
  epoch = "e1";

  append(count: number): StoredRow[] {
    const added = Array.from({ length: count }, (_, i) => row(this.head + 1 + i));
    this.rows.push(...added);
    this.head += count;
    return added;
  }

  trimUpTo(seq: number): void {
    this.rows = this.rows.filter((r) => r.seq > seq);
  }

  position(): LogPosition {
    return { epoch: this.epoch, head: this.head, oldest: this.rows[0]?.seq ?? this.head + 1 };
  }

  read(after: number, limit: number): StoredRow[] {
    return this.rows.filter((r) => r.seq > after).slice(0, limit);
  }
}

class FakeRegistry {
  hubs = new Set<string>();
  list = () => [...this.hubs].sort();
  attach = (hub: string) => void this.hubs.add(hub);
  remove = (hub: string) => void this.hubs.delete(hub);
}

/** A hub as the protocol describes it: applies a push only when it holds everything up to prev. */
class FakeHub {
  head = 0;
  seen: number[] = [];
  gaps: number[] = [];
  subscribed = true;

  deliver(push: HubPush): HubPushResult {
    if (!this.subscribed) return { ok: false, code: "not_subscribed" };
    if (push.prev > this.head && push.oldest === undefined) return { ok: false, code: "behind", head: this.head };
    if (push.oldest !== undefined && push.oldest > this.head + 1) this.gaps.push(push.oldest);
    for (const r of push.rows) {
      if (r.seq <= this.head) continue;
      this.seen.push(r.seq);
      this.head = r.seq;
    }
    if (push.oldest !== undefined) this.head = Math.max(this.head, push.oldest - 1);
    return { ok: true, head: this.head, subscribers: 1 };
  }
}

interface Sent {
  hub: string;
  push: HubPush;
  answer: (result: HubPushResult | Error) => void;
}

/** A topic's fanout over fake hubs; `manual` holds each push until the test answers it. */
function setup(hubNames: string[], options: { manual?: boolean; attached?: string[] } = {}) {
  const log = new FakeLog();
  const registry = new FakeRegistry();
  for (const hub of options.attached ?? []) registry.hubs.add(hub);
  const hubs = new Map(hubNames.map((name) => [name, new FakeHub()]));
  const sent: Sent[] = [];
  const timers: { run: () => void; delayMs: number }[] = [];
  const fanout = new HubFanout({
    log,
    registry,
    topic: () => "orders",
    random: () => 0.5,
    schedule: (run, delayMs) => void timers.push({ run, delayMs }),
    send: (hub, push) =>
      new Promise((resolve, reject) => {
        const answer = (result: HubPushResult | Error) => (result instanceof Error ? reject(result) : resolve(result));
        sent.push({ hub, push, answer });
        const target = hubs.get(hub);
        if (!options.manual && target) answer(target.deliver(push));
      }),
  });
  // A hub that attaches knowing nothing follows the topic from the head it is told.
  const attach = (hub: string) => {
    const { head } = fanout.attach({ hub, known: null }, 0);
    const target = hubs.get(hub);
    if (target) target.head = head;
  };
  const publish = (count: number) => fanout.publish(log.append(count));
  return { log, registry, hubs, sent, timers, fanout, attach, publish };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));
const pushed = (sent: Sent[], hub: string) =>
  sent.filter((s) => s.hub === hub).map((s) => ({ prev: s.push.prev, seqs: s.push.rows.map((r) => r.seq) }));

describe("HubFanout", () => {
  it("pushes each committed append once per hub, whatever the hubs' audiences", async () => {
    const t = setup(["hub-0", "hub-1", "hub-2"]);
    for (const hub of t.hubs.keys()) t.attach(hub);
    t.publish(2);
    await settled();
    t.publish(1);
    await settled();
    expect(t.sent).toHaveLength(6);
    for (const [name, hub] of t.hubs) {
      expect(pushed(t.sent, name)).toEqual([
        { prev: 0, seqs: [1, 2] },
        { prev: 2, seqs: [3] },
      ]);
      expect(hub.seen).toEqual([1, 2, 3]);
    }
    expect(t.sent[0].push).toMatchObject({ topic: "orders", epoch: "e1", head: 2 });
    expect(t.fanout.count).toBe(3);
  });

  it("keeps one push in flight per hub and sends what committed meanwhile in the next", async () => {
    const t = setup(["hub-0"], { manual: true });
    t.attach("hub-0");
    t.publish(1);
    t.publish(2);
    t.publish(3);
    expect(t.sent).toHaveLength(1);
    t.sent[0].answer({ ok: true, head: 1, subscribers: 5 });
    await settled();
    expect(pushed(t.sent, "hub-0")).toEqual([
      { prev: 0, seqs: [1] },
      { prev: 1, seqs: [2, 3, 4, 5, 6] },
    ]);
    t.sent[1].answer({ ok: true, head: 6, subscribers: 5 });
    await settled();
    expect(t.sent).toHaveLength(2);
  });

  it("bounds each push and catches a hub far behind up from the log", async () => {
    const t = setup(["hub-0"]);
    t.log.append(2500);
    t.fanout.attach({ hub: "hub-0", known: { epoch: "e1", head: 0 } }, 0);
    await settled();
    expect(t.sent.map((s) => s.push.rows.length)).toEqual([PUSH_LIMITS.maxRows, PUSH_LIMITS.maxRows, 500]);
    expect(t.hubs.get("hub-0")?.seen).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it("resends from the log after a behind answer", async () => {
    const t = setup(["hub-0"]);
    t.publish(4);
    t.attach("hub-0");
    // The hub holds less than it told on attach (it lost its state): it answers behind.
    t.hubs.get("hub-0")!.head = 2;
    t.publish(2);
    await settled();
    expect(pushed(t.sent, "hub-0")).toEqual([
      { prev: 4, seqs: [5, 6] },
      { prev: 2, seqs: [3, 4, 5, 6] },
    ]);
    expect(t.hubs.get("hub-0")?.seen).toEqual([3, 4, 5, 6]);
  });

  it("starts an attached hub from what it holds of the same epoch, else from the head", async () => {
    const t = setup(["hub-0", "hub-1"]);
    t.publish(5);
    t.hubs.get("hub-0")!.head = 3;
    expect(t.fanout.attach({ hub: "hub-0", known: { epoch: "e1", head: 3 } }, 0)).toEqual({
      epoch: "e1",
      head: 5,
      oldest: 1,
    });
    t.fanout.attach({ hub: "hub-1", known: { epoch: "old", head: 3 } }, 0);
    await settled();
    expect(pushed(t.sent, "hub-0")).toEqual([{ prev: 3, seqs: [4, 5] }]);
    expect(pushed(t.sent, "hub-1")).toEqual([]);
    expect(t.registry.list()).toEqual(["hub-0", "hub-1"]);
  });

  it("tells a hub the events it missed were trimmed (oldest)", async () => {
    const t = setup(["hub-0"]);
    t.log.append(10);
    t.log.trimUpTo(6);
    t.fanout.attach({ hub: "hub-0", known: { epoch: "e1", head: 2 } }, 0);
    await settled();
    expect(t.sent[0].push).toMatchObject({ prev: 2, oldest: 7 });
    expect(t.hubs.get("hub-0")).toMatchObject({ seen: [7, 8, 9, 10], gaps: [7] });
  });

  it("retries a failed push with backoff without losing rows", async () => {
    const t = setup(["hub-0"], { manual: true });
    t.attach("hub-0");
    t.publish(2);
    t.sent[0].answer(new Error("hub overloaded"));
    await settled();
    t.publish(1);
    expect(t.sent).toHaveLength(1);
    expect(t.timers.map((timer) => timer.delayMs)).toEqual([50]);
    t.timers[0].run();
    expect(pushed(t.sent, "hub-0")[1]).toEqual({ prev: 0, seqs: [1, 2, 3] });
  });

  it("leaves a hub that keeps failing to the alarm, which retries it", async () => {
    const t = setup(["hub-0"], { manual: true });
    t.attach("hub-0");
    t.publish(1);
    for (let i = 0; i <= PUSH_TIMED_RETRIES; i++) {
      t.sent[t.sent.length - 1].answer(new Error("reset"));
      await settled();
      if (i < PUSH_TIMED_RETRIES) t.timers[i].run();
    }
    expect(t.timers).toHaveLength(PUSH_TIMED_RETRIES);
    const before = t.sent.length;
    t.publish(1);
    expect(t.sent).toHaveLength(before);
    const sync = t.fanout.sync();
    expect(t.sent).toHaveLength(before + 1);
    t.sent[before].answer({ ok: true, head: 2, subscribers: 1 });
    expect(await sync).toBe(true);
  });

  it("drops a hub with no subscriber, unless it attached again since the push left", async () => {
    const t = setup(["hub-0", "hub-1"], { manual: true });
    t.attach("hub-0");
    t.attach("hub-1");
    t.publish(1);
    t.attach("hub-1");
    for (const s of t.sent) s.answer({ ok: false, code: "not_subscribed" });
    await settled();
    expect(t.registry.list()).toEqual(["hub-1"]);
    expect(t.fanout.count).toBe(1);
  });

  it("forgets a detached hub, even with a push in flight", async () => {
    const t = setup(["hub-0"], { manual: true });
    t.attach("hub-0");
    t.publish(1);
    t.fanout.detach("hub-0");
    t.sent[0].answer({ ok: true, head: 1, subscribers: 1 });
    await settled();
    t.publish(1);
    expect(t.sent).toHaveLength(1);
    expect(t.registry.list()).toEqual([]);
  });

  it("after a restart, probes every registered hub and resends what a hub lacks", async () => {
    const t = setup(["hub-0", "hub-1"], { attached: ["hub-0", "hub-1"] });
    t.log.append(6);
    t.hubs.get("hub-0")!.head = 6;
    t.hubs.get("hub-1")!.head = 4;
    expect(t.fanout.count).toBe(2);
    expect(await t.fanout.sync()).toBe(true);
    expect(pushed(t.sent, "hub-0")).toEqual([{ prev: 6, seqs: [] }]);
    expect(pushed(t.sent, "hub-1")).toEqual([
      { prev: 6, seqs: [] },
      { prev: 4, seqs: [5, 6] },
    ]);
    t.sent.length = 0;
    expect(await t.fanout.sync()).toBe(true);
    expect(t.sent).toHaveLength(0);
  });

  it("after a restart, pushes new rows from just before them; a hub lacking earlier ones says so", async () => {
    const t = setup(["hub-0"], { attached: ["hub-0"] });
    t.log.append(3);
    t.hubs.get("hub-0")!.head = 2;
    t.publish(2);
    await settled();
    expect(pushed(t.sent, "hub-0")).toEqual([
      { prev: 3, seqs: [4, 5] },
      { prev: 2, seqs: [3, 4, 5] },
    ]);
  });

  it("holds rows in memory only until every hub of known position holds them", async () => {
    const t = setup(["hub-0", "hub-1"], { manual: true });
    t.attach("hub-0");
    t.attach("hub-1");
    t.publish(3);
    expect(t.fanout.held).toBe(3);
    t.sent[0].answer({ ok: true, head: 3, subscribers: 1 });
    await settled();
    expect(t.fanout.held).toBe(3);
    t.sent[1].answer({ ok: true, head: 2, subscribers: 1 });
    await settled();
    // hub-1 still lacks seq 3: it stays, and goes in hub-1's next push.
    expect(t.fanout.held).toBe(1);
    expect(pushed(t.sent, "hub-1")).toEqual([
      { prev: 0, seqs: [1, 2, 3] },
      { prev: 2, seqs: [3] },
    ]);
    t.sent[2].answer({ ok: true, head: 3, subscribers: 1 });
    await settled();
    expect(t.fanout.held).toBe(0);
  });

  it("holds no rows in memory while no hub is attached", async () => {
    const t = setup(["hub-0"]);
    t.publish(3);
    t.attach("hub-0");
    t.publish(1);
    await settled();
    expect(pushed(t.sent, "hub-0")).toEqual([{ prev: 3, seqs: [4] }]);
  });
});
