import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { ServerFrame } from "../../protocol/frames.ts";
import {
  PRESENCE_LINGER_MS,
  type PresencePage,
  presenceEnterFrameText,
  presenceFollowFrameText,
  presenceLeaveFrameText,
  presenceUpdateFrameText,
} from "../../protocol/presence.ts";
import { mintToken } from "../../runtime/tokens.ts";
import { KEYS, TOKEN_SECRET } from "../support/credentials.ts";
import { hibernateAndWake } from "./support/hub-hibernation.ts";
import { hubStub } from "./support/hub-socket.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { collect, type Socket } from "./support/socket.ts";
import { freshTopic } from "./topic-client.ts";

const presenceStub = (topic: string) => env.TOPIC_PRESENCE.get(env.TOPIC_PRESENCE.idFromName(topic));

interface HubSocket extends Socket {
  hub: string;
  send(text: string): void;
}

/** A `/v1/ws` socket on the hub of routing key `key`, with a token of `subject` (or the admin key). */
async function open(key: string, topics: string[], subject?: string | null): Promise<HubSocket> {
  const init = { headers: { upgrade: "websocket" } };
  let res: Response;
  if (subject === null) {
    res = await meshFetch(`/v1/ws?key=${key}`, init);
  } else {
    const request = { topics, ops: ["subscribe" as const], ttlSeconds: 600, subject };
    const { token } = await mintToken(request, KEYS.admin, TOKEN_SECRET);
    res = await exports.default.fetch(`http://mesh/v1/ws?key=${key}&token=${token}`, init);
  }
  const socket = collect(res);
  return { ...socket, hub: res.headers.get("x-mesh-hub") ?? "", send: (text) => socket.ws.send(text) };
}

/** The presence frames of one topic, as `type member` (joins and updates with their data). */
function changes(frames: ServerFrame[], topic: string): string[] {
  return frames.flatMap((f) => {
    if (!("topic" in f) || f.topic !== topic) return [];
    if (f.type === "presence.join" || f.type === "presence.update")
      return [`${f.type} ${f.member} ${JSON.stringify(f.data)}`];
    if (f.type === "presence.leave") return [`${f.type} ${f.member}`];
    if (f.type === "occupancy") return [`occupancy ${f.members}/${f.connections}`];
    if (f.type === "presence") return [`presence ${f.page} ${f.members.map((m) => m.member).join(",")}`];
    if (f.type === "presence.refused") return [`refused ${f.code}`];
    return [];
  });
}

const last = (sock: Socket, topic: string) => changes(sock.frames, topic).at(-1);
const seen = (sock: Socket, topic: string, text: string) =>
  sock.until((frames) => changes(frames, topic).at(-1) === text, text);

async function members(topic: string, query = ""): Promise<PresencePage> {
  const res = await meshFetch(`/v1/topics/${topic}/presence${query}`);
  expect(res.status).toBe(200);
  return res.json();
}

/** Time passes for the topic's lingering connections: their linger is over. */
async function lingerPasses(topic: string): Promise<void> {
  await runInDurableObject(presenceStub(topic), (_instance, state) => {
    state.storage.sql.exec("UPDATE conns SET gone_at = gone_at - ? WHERE gone_at IS NOT NULL", PRESENCE_LINGER_MS);
  });
}

/** Waits until the topic's presence object counts `n` connections of `hub` as gone. */
async function goneFrom(topic: string, n: number): Promise<void> {
  await vi.waitFor(async () => {
    const count = await runInDurableObject(
      presenceStub(topic),
      (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM conns WHERE gone_at IS NOT NULL").one().n,
    );
    expect(count).toBe(n);
  });
}

async function abort(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    try {
      state.abort("test restart");
    } catch {
      // abort() ends the object with an error by design.
    }
  }).catch(() => undefined);
}

describe("presence across hubs", () => {
  it("sends join, update and leave to a follower on another hub; a member with two connections is one", async () => {
    const topic = freshTopic("pres");
    const watcher = await open(`${topic}-w`, [topic], "watcher");
    watcher.send(presenceFollowFrameText(topic, "members"));
    await seen(watcher, topic, "occupancy 0/0");
    expect(changes(watcher.frames, topic)).toEqual(["presence 0 ", "occupancy 0/0"]);

    const alice1 = await open(`${topic}-a`, [topic], "alice");
    const alice2 = await open(`${topic}-b`, [topic], "alice");
    expect(new Set([watcher.hub, alice1.hub, alice2.hub]).size).toBeGreaterThan(1);
    alice1.send(presenceEnterFrameText({ topic, data: { name: "Alice" } }));
    await seen(watcher, topic, "occupancy 1/1");
    alice2.send(presenceEnterFrameText({ topic }));
    await seen(watcher, topic, "occupancy 1/2");
    alice2.send(presenceUpdateFrameText(topic, { name: "Alice", typing: true }));
    await seen(watcher, topic, `presence.update alice {"name":"Alice","typing":true}`);
    expect(await members(topic)).toEqual({
      topic,
      occupancy: { members: 1, connections: 2 },
      members: [{ member: "alice", data: { name: "Alice", typing: true } }],
      next: null,
    });

    alice1.send(presenceLeaveFrameText(topic));
    await seen(watcher, topic, "occupancy 1/1");
    alice2.send(presenceLeaveFrameText(topic));
    await seen(watcher, topic, "occupancy 0/0");
    expect(changes(watcher.frames, topic).slice(2)).toEqual([
      `presence.join alice {"name":"Alice"}`,
      "occupancy 1/1",
      "occupancy 1/2",
      `presence.update alice {"name":"Alice","typing":true}`,
      "occupancy 1/2",
      "occupancy 1/1",
      "presence.leave alice",
      "occupancy 0/0",
    ]);
    for (const sock of [watcher, alice1, alice2]) sock.ws.close();
  });

  it("refuses a socket without a subject, another topic, an update before enter and oversized data; the socket goes on", async () => {
    const topic = freshTopic("presref");
    const keySocket = await open(topic, [topic], null);
    keySocket.send(presenceEnterFrameText({ topic }));
    await seen(keySocket, topic, "refused no_subject");

    const bob = await open(topic, [topic], "bob");
    const other = freshTopic("presother");
    bob.send(presenceEnterFrameText({ topic: other }));
    await seen(bob, other, "refused forbidden");
    bob.send(presenceUpdateFrameText(topic, { away: true }));
    await seen(bob, topic, "refused not_entered");
    bob.send(presenceEnterFrameText({ topic, data: { bio: "x".repeat(2000) } }));
    await bob.until((f) => f.some((x) => x.type === "error" && x.code === "invalid_body"), "invalid_body");
    expect(bob.frames.find((x) => x.type === "error")).toMatchObject({ message: expect.stringContaining("1024") });
    expect((await members(topic)).occupancy).toEqual({ members: 0, connections: 0 });

    bob.send(presenceEnterFrameText({ topic, data: { ok: true } }));
    await vi.waitFor(async () =>
      expect((await members(topic)).members).toEqual([{ member: "bob", data: { ok: true } }]),
    );
    for (const sock of [keySocket, bob]) sock.ws.close();
  });

  it("refuses a socket's presence in more topics than HUB_MAX_TOPICS_PER_SOCKET; leaving one makes room", async () => {
    const base = freshTopic("prescap");
    const topics = Array.from({ length: 100 }, (_, i) => `${base}-${i}`);
    const sock = await open(base, [`${base}-*`], "gina");
    for (const topic of topics) sock.send(presenceEnterFrameText({ topic }));
    // An enter is not answered, and the pool's in-process sockets were seen to deliver a burst out of
    // order: the follow is sent once the last enter has landed.
    await vi.waitFor(async () => expect((await members(topics[99])).members).toHaveLength(1), {
      timeout: 10_000,
      interval: 200,
    });
    sock.send(presenceFollowFrameText(`${base}-extra`, "count"));
    await seen(sock, `${base}-extra`, "refused too_many_subscriptions");
    sock.send(presenceLeaveFrameText(topics[0]));
    // Sent apart for the same reason as above.
    await vi.waitFor(async () => expect((await members(topics[0])).members).toHaveLength(0), {
      timeout: 10_000,
      interval: 200,
    });
    sock.send(presenceFollowFrameText(`${base}-extra`, "count"));
    await seen(sock, `${base}-extra`, "occupancy 0/0");
    expect((await members(topics[99])).members).toEqual([{ member: "gina", data: null }]);
    sock.ws.close();
  });

  it("a closed socket lingers: a reconnect with its session is no leave + join, and it leaves once the linger passes", async () => {
    const topic = freshTopic("preslinger");
    const watcher = await open(`${topic}-w`, [topic], "watcher");
    watcher.send(presenceFollowFrameText(topic, "members"));
    await seen(watcher, topic, "occupancy 0/0");

    const first = await open(`${topic}-a`, [topic], "carol");
    first.send(presenceEnterFrameText({ topic, session: "tab-1", data: { v: 1 } }));
    await seen(watcher, topic, "occupancy 1/1");
    first.ws.close(1000);
    await goneFrom(topic, 1);
    // The reconnect, on another hub, within the linger: same member, same session.
    const again = await open(`${topic}-b`, [topic], "carol");
    again.send(presenceEnterFrameText({ topic, session: "tab-1", data: { v: 1 } }));
    await goneFrom(topic, 0);
    await lingerPasses(topic);
    expect(await runDurableObjectAlarm(presenceStub(topic))).toBe(true);
    expect((await members(topic)).occupancy).toEqual({ members: 1, connections: 1 });
    expect(changes(watcher.frames, topic).filter((c) => c.startsWith("presence."))).toEqual([
      `presence.join carol {"v":1}`,
    ]);

    // Gone for good: after the linger the member leaves, from the alarm.
    again.ws.close(1000);
    await goneFrom(topic, 1);
    expect(last(watcher, topic)).toBe("occupancy 1/1");
    await lingerPasses(topic);
    expect(await runDurableObjectAlarm(presenceStub(topic))).toBe(true);
    await seen(watcher, topic, "occupancy 0/0");
    expect(changes(watcher.frames, topic).filter((c) => c.startsWith("presence."))).toEqual([
      `presence.join carol {"v":1}`,
      "presence.leave carol",
    ]);
    watcher.ws.close();
  });

  it("what hubs know of presence survives their hibernation: the follow, the entered connection", async () => {
    const topic = freshTopic("preshib");
    const watcher = await open(`${topic}-w`, [topic], "watcher");
    watcher.send(presenceFollowFrameText(topic, "members"));
    await seen(watcher, topic, "occupancy 0/0");
    const frank = await open(`${topic}-a`, [topic], "frank");
    frank.send(presenceEnterFrameText({ topic, data: 1 }));
    await seen(watcher, topic, "occupancy 1/1");
    for (const hub of new Set([watcher.hub, frank.hub])) await hibernateAndWake(hub);
    frank.send(presenceUpdateFrameText(topic, 2));
    await seen(watcher, topic, "occupancy 1/1");
    await watcher.until((f) => changes(f, topic).includes("presence.update frank 2"), "update after the wake");
    frank.ws.close(1000);
    await goneFrom(topic, 1);
    watcher.ws.close();
  });

  it("members of a hub that restarts leave within the bound; presence survives its own object's restart", async () => {
    const topic = freshTopic("presabort");
    const watcher = await open(`${topic}-w`, [topic], "watcher");
    watcher.send(presenceFollowFrameText(topic, "members"));
    await seen(watcher, topic, "occupancy 0/0");
    const dave = await open(`${topic}-a`, [topic], "dave");
    const erin = await open(`${topic}-w`, [topic], "erin");
    expect(erin.hub).toBe(watcher.hub);
    dave.send(presenceEnterFrameText({ topic, data: "d" }));
    erin.send(presenceEnterFrameText({ topic, data: "e" }));
    await seen(watcher, topic, "occupancy 2/2");
    expect(dave.hub).not.toBe(watcher.hub);

    // The presence object restarts: its members, followers and alarm are in its SQLite. Say the
    // last change's push was lost with it: the watcher's hub is then sent the whole list again.
    await abort(presenceStub(topic));
    expect((await members(topic)).members.map((m) => m.member)).toEqual(["dave", "erin"]);
    await runInDurableObject(presenceStub(topic), (_instance, state) => {
      state.storage.sql.exec("UPDATE followers SET delivered = delivered - 1");
    });

    // Dave's hub restarts: its sockets go without a close; the check finds them gone.
    await abort(hubStub(dave.hub));
    expect(await runDurableObjectAlarm(presenceStub(topic))).toBe(true);
    await goneFrom(topic, 1);
    await lingerPasses(topic);
    expect(await runDurableObjectAlarm(presenceStub(topic))).toBe(true);
    await seen(watcher, topic, "occupancy 1/1");
    expect(changes(watcher.frames, topic)).toContain("presence.leave dave");
    // The first push after the restart sent the list again (dave is in it unless his leave came first).
    const lists = changes(watcher.frames, topic).filter((c) => c.startsWith("presence 0"));
    expect(lists).toHaveLength(2);
    expect(lists[1]).toMatch(/^presence 0 (dave,)?erin$/);
    expect(await members(topic)).toMatchObject({ members: [{ member: "erin", data: "e" }] });
    for (const sock of [watcher, erin]) sock.ws.close();
  });

  it("a count follower gets occupancy only; the member list pages over HTTP", async () => {
    const topic = freshTopic("prescount");
    const counter = await open(`${topic}-c`, [topic], "counter");
    counter.send(presenceFollowFrameText(topic, "count"));
    await seen(counter, topic, "occupancy 0/0");
    const stub = presenceStub(topic);
    const place = { hub: "hub-test", sid: "sid-test" };
    await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        stub.enter(topic, `m-${String(i).padStart(3, "0")}`, `s-${i}`, place, `{"i":${i}}`),
      ),
    );
    await seen(counter, topic, "occupancy 150/150");
    expect(changes(counter.frames, topic).every((c) => c.startsWith("occupancy"))).toBe(true);

    const listed: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: PresencePage = await members(topic, `?limit=60${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.members.length).toBeLessThanOrEqual(60);
      listed.push(...page.members.map((m) => m.member));
      cursor = page.next;
    }
    expect(listed).toEqual(Array.from({ length: 150 }, (_, i) => `m-${String(i).padStart(3, "0")}`));
    const bad = await meshFetch(`/v1/topics/${topic}/presence?limit=5000`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_query" } });
    counter.ws.close();
  });
});
