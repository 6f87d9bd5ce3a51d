import { describe, expect, it } from "vitest";
import { isPresenceFrame, PresenceSet } from "../../client/presence-set.ts";
import { HubPresence, type HubPresenceDeps, type PresenceSide } from "../../durable-objects/hub-presence.ts";
import { HubSender } from "../../durable-objects/hub-sender.ts";
import type { HubSessions, Session } from "../../durable-objects/hub-sessions.ts";
import { PresenceFanout, type PresencePush } from "../../durable-objects/presence-fanout.ts";
import {
  changeOnEnter,
  changeOnUpdate,
  heartbeatMissed,
  leavesWith,
  lingerEnded,
  nextAlarm,
} from "../../durable-objects/presence-rules.ts";
import { SerialChains } from "../../durable-objects/serial-chains.ts";
import { SocketFlow } from "../../durable-objects/socket-flow.ts";
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
    expect(nextAlarm(null, false, now)).toBeNull();
    expect(nextAlarm(null, true, now)).toBe(now + PRESENCE_CHECK_MS);
    expect(nextAlarm(now - 8_000, false, now)).toBe(now - 8_000 + PRESENCE_LINGER_MS);
    expect(nextAlarm(now - 60_000, true, now)).toBe(now + 1);
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

describe("a hub sending a member list", () => {
  /** A hub's presence over a stand-in SQLite and presence object: a list of 6 pages of 3 members, 300 characters each. */
  function hubWithList() {
    const sent: string[] = [];
    const closes: number[] = [];
    const ws = {
      send: (text: string) => sent.push(text),
      close: (code: number) => closes.push(code),
    } as unknown as WebSocket;
    const session = { sid: "s1", ws, flow: new SocketFlow(400), scope: { topics: ["*"], ops: ["subscribe"] } };
    const rows = { toArray: () => [], one: () => ({}) };
    const page = (n: number) =>
      Array.from({ length: 3 }, (_, i) => ({ member: `m${n}${i}`, data: JSON.stringify("x".repeat(80)) }));
    const side = {
      follow: async () => ({ members: 18, connections: 18 }),
      members: async (_topic: string, cursor: string) => {
        const n = cursor === "" ? 0 : Number(cursor) + 1;
        return { occupancy: { members: 18, connections: 18 }, members: page(n), next: n < 5 ? String(n) : null };
      },
    } as unknown as PresenceSide;
    const presence = new HubPresence({
      sql: { exec: () => rows } as unknown as HubPresenceDeps["sql"],
      sessions: { bySid: () => session } as unknown as HubSessions,
      sender: new HubSender({ maxUnackedChars: 1000, stallMs: 400 }),
      presence: () => side,
      hub: () => "hub-0",
      maxTopics: 100,
      lastBeat: () => null,
      turns: new SerialChains(),
    });
    const pages = () => sent.filter((text) => text.startsWith('{"type":"presence"')).length;
    const marks = () => sent.filter((text) => text.startsWith('{"type":"mark"')).map((text) => JSON.parse(text).id);
    return { presence, session: session as unknown as Session, sent, closes, pages, marks };
  }

  it("sends no more than the socket's allowance until its client acknowledges what it read", async () => {
    const hub = hubWithList();
    const following = hub.presence.frame(hub.session, { type: "presence.follow", topic: "room", mode: "members" });
    await new Promise((resolve) => setTimeout(resolve, 120));
    const before = hub.pages();
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(6);
    for (const id of hub.marks()) hub.session.flow.ack(id);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(hub.pages()).toBeGreaterThan(before);
    // Read along until the list is whole: 6 pages, then the counts.
    for (let i = 0; i < 20 && hub.pages() < 6; i += 1) {
      for (const id of hub.marks()) hub.session.flow.ack(id);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await following;
    expect(hub.pages()).toBe(6);
    expect(hub.sent.some((text) => text.startsWith('{"type":"occupancy"'))).toBe(true);
    expect(hub.closes).toEqual([]);
  });

  it("closes a socket that acknowledges nothing for the stall time with 1013", async () => {
    const hub = hubWithList();
    await hub.presence.frame(hub.session, { type: "presence.follow", topic: "room", mode: "members" });
    expect(hub.closes).toEqual([1013]);
    expect(hub.pages()).toBeLessThan(6);
  });
});
