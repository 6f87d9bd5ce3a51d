import { describe, expect, it } from "vitest";
import { isPresenceFrame, PresenceSet } from "../../client/presence-set.ts";
import { PresenceFanout, type PresencePush } from "../../durable-objects/presence-fanout.ts";
import {
  changeOnEnter,
  changeOnUpdate,
  heartbeatMissed,
  leavesWith,
  lingerEnded,
  nextAlarm,
} from "../../durable-objects/presence-rules.ts";
import { parseClientFrame } from "../../protocol/frames.ts";
import {
  PRESENCE_CHECK_MS,
  PRESENCE_LINGER_MS,
  PRESENCE_STALE_MS,
  presenceEnterFrameText,
} from "../../protocol/presence.ts";

describe("presence rules", () => {
  it("an enter joins a new member, updates a known one only when its data changed", () => {
    expect(changeOnEnter(null, '{"a":1}')).toEqual({ type: "presence.join", data: '{"a":1}' });
    expect(changeOnEnter(null, null)).toEqual({ type: "presence.join", data: "null" });
    expect(changeOnEnter({ data: '{"a":1}' }, '{"a":1}')).toBeNull();
    expect(changeOnEnter({ data: '{"a":1}' }, null)).toBeNull();
    expect(changeOnEnter({ data: '{"a":1}' }, '{"a":2}')).toEqual({ type: "presence.update", data: '{"a":2}' });
    expect(changeOnUpdate({ data: "1" }, "1")).toBe(false);
    expect(changeOnUpdate({ data: "1" }, "2")).toBe(true);
    expect([leavesWith(1), leavesWith(0)]).toEqual([false, true]);
  });

  it("bounds: the linger, the missed heartbeat, and when the alarm runs", () => {
    const now = 1_000_000;
    expect(lingerEnded(now - PRESENCE_LINGER_MS + 1, now)).toBe(false);
    expect(lingerEnded(now - PRESENCE_LINGER_MS, now)).toBe(true);
    expect(heartbeatMissed(now - PRESENCE_STALE_MS, now)).toBe(false);
    expect(heartbeatMissed(now - PRESENCE_STALE_MS - 1, now)).toBe(true);
    expect(nextAlarm(null, 0, now)).toBeNull();
    expect(nextAlarm(null, 3, now)).toBe(now + PRESENCE_CHECK_MS);
    expect(nextAlarm(now - 8_000, 0, now)).toBe(now - 8_000 + PRESENCE_LINGER_MS);
    expect(nextAlarm(now - 60_000, 1, now)).toBe(now + 1);
    // Worst case of a vanished client: no heartbeat for the stale bound, found at the next check, then the linger.
    expect(PRESENCE_STALE_MS + PRESENCE_CHECK_MS + PRESENCE_LINGER_MS).toBe(75_000);
  });
});

describe("presence frames", () => {
  it("parses the client's presence frames and refuses data over 1,024 characters", () => {
    const enter = parseClientFrame(presenceEnterFrameText({ topic: "room", session: "tab-1", data: { n: 1 } }));
    expect(enter).toEqual({
      ok: true,
      frame: { type: "presence.enter", topic: "room", session: "tab-1", data: { n: 1 } },
    });
    expect(parseClientFrame('{"type":"presence.follow","topic":"room"}')).toEqual({
      ok: true,
      frame: { type: "presence.follow", topic: "room", mode: "members" },
    });
    const big = parseClientFrame(presenceEnterFrameText({ topic: "room", data: "x".repeat(1100) }));
    expect(big).toMatchObject({ ok: false, message: expect.stringContaining("data: presence data is at most 1024") });
    expect(parseClientFrame('{"type":"presence.enter","topic":"room","session":"no spaces"}')).toMatchObject({
      ok: false,
      message: expect.stringContaining("session"),
    });
    expect(parseClientFrame('{"type":"presence.follow","topic":"room","mode":"all"}').ok).toBe(false);
  });
});

describe("the client's member set", () => {
  it("builds the list from pages, applies changes on top idempotently, and counts", () => {
    const set = new PresenceSet();
    const topic = "room";
    set.apply({ type: "presence", topic, page: 0, members: [{ member: "b", data: 2 }], more: true });
    set.apply({ type: "presence.join", topic, member: "c", data: 3 });
    set.apply({ type: "presence", topic, page: 1, members: [{ member: "c", data: 3 }], more: false });
    expect(set.view().synced).toBe(false);
    set.apply({ type: "occupancy", topic, members: 2, connections: 3 });
    expect(set.view()).toEqual({
      members: [
        { member: "b", data: 2 },
        { member: "c", data: 3 },
      ],
      occupancy: { members: 2, connections: 3 },
      synced: true,
    });
    expect(set.apply({ type: "presence.leave", topic, member: "zz" })).toBe(false);
    set.apply({ type: "presence.update", topic, member: "b", data: "two" });
    set.apply({ type: "presence.leave", topic, member: "c" });
    expect(set.view().members).toEqual([{ member: "b", data: "two" }]);
    expect(set.apply({ type: "occupancy", topic, members: 2, connections: 3 })).toBe(false);
    set.dropped();
    expect(set.view().synced).toBe(false);
    // A new list after a reconnect replaces the old one.
    set.apply({ type: "presence", topic, page: 0, members: [{ member: "a", data: null }], more: false });
    expect(set.view().members).toEqual([{ member: "a", data: null }]);
    expect(isPresenceFrame({ type: "presence.refused" })).toBe(true);
    expect(isPresenceFrame({ type: "caught-up" })).toBe(false);
  });
});

describe("presence pushes to hubs", () => {
  it("keeps one push in flight per hub, gathers changes meanwhile, sends counts only to count hubs, forgets a hub that follows no more", async () => {
    const sent: { hub: string; push: PresencePush }[] = [];
    const answers: ((following: boolean) => void)[] = [];
    const forgotten: string[] = [];
    let members = 0;
    const fanout = new PresenceFanout(
      () => "room",
      () => ({ occupancy: { members, connections: members }, rev: members }),
      (hub, push) => {
        sent.push({ hub, push });
        return new Promise((resolve) => answers.push((following) => resolve({ following })));
      },
      { forget: (hub) => forgotten.push(hub), delivered: () => undefined },
    );
    const followers = [
      { hub: "hub-1", members: true, delivered: 0 },
      { hub: "hub-2", members: false, delivered: 0 },
    ];
    members = 1;
    fanout.publish(followers, [{ type: "presence.join", member: "a", data: "1", rev: 1 }]);
    members = 3;
    fanout.publish(followers, [{ type: "presence.join", member: "b", data: "2", rev: 2 }]);
    fanout.publish(followers, [{ type: "presence.join", member: "c", data: "3", rev: 3 }]);
    expect(sent.map((s) => [s.hub, s.push.changes.length, s.push.occupancy.members])).toEqual([
      ["hub-1", 1, 1],
      ["hub-2", 0, 1],
    ]);
    answers.shift()?.(true);
    answers.shift()?.(false);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(sent.slice(2).map((s) => [s.hub, s.push.changes.map((c) => c.member), s.push.occupancy.members])).toEqual([
      ["hub-1", ["b", "c"], 3],
    ]);
    expect(forgotten).toEqual(["hub-2"]);
  });

  it("pushes a counts-only hub at most once per interval, with the counts as they are then", async () => {
    const sent: { at: number; members: number }[] = [];
    let members = 0;
    const fanout = new PresenceFanout(
      () => "room",
      () => ({ occupancy: { members, connections: members }, rev: 0 }),
      async (_hub, push) => {
        sent.push({ at: Date.now(), members: push.occupancy.members });
        return { following: true };
      },
      { forget: () => undefined, delivered: () => undefined },
      60,
    );
    const counters = [{ hub: "hub-1", members: false, delivered: 0 }];
    for (members = 1; members <= 5; members += 1) {
      fanout.publish(counters, [{ type: "presence.join", member: `m${members}`, rev: members }]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    members = 5;
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(sent.map((s) => s.members)).toEqual([1, 5]);
    expect(sent[1].at - sent[0].at).toBeGreaterThanOrEqual(55);
  });

  it("marks a push resync when changes before it never reached the hub (the object restarted with pushes unsent)", async () => {
    const pushes: PresencePush[] = [];
    const delivered: number[] = [];
    const fanout = new PresenceFanout(
      () => "room",
      () => ({ occupancy: { members: 1, connections: 1 }, rev: 7 }),
      async (_hub, push) => {
        pushes.push(push);
        return { following: true };
      },
      { forget: () => undefined, delivered: (_hub, rev) => delivered.push(rev) },
    );
    // The hub was last sent change 5; 6 was lost with the old instance's outbox; 7 is new.
    fanout.publish([{ hub: "hub-1", members: true, delivered: 5 }], [{ type: "presence.leave", member: "a", rev: 7 }]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(pushes.map((p) => [p.resync, p.changes])).toEqual([[true, [{ type: "presence.leave", member: "a" }]]]);
    expect(delivered).toEqual([7]);
    fanout.publish([{ hub: "hub-1", members: true, delivered: 7 }], [{ type: "presence.join", member: "b", rev: 8 }]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(pushes[1].resync).toBe(false);
  });
});
