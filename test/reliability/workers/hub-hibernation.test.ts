import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { SocketHub } from "../../../durable-objects/socket-hub.ts";
import { subscribeFrameText, unsubscribeFrameText } from "../../../protocol/frames.ts";
import { hibernateAndWake } from "../../workers/support/hub-hibernation.ts";
import { meshFetch } from "../../workers/support/mesh-fetch.ts";
import { caughtUp, collect, ofTopic, type Socket, seqsOf } from "../../workers/support/socket.ts";
import { freshTopic } from "../../workers/topic-client.ts";
import { hubStub, publish, range } from "./support/hub-follower.ts";

// Issue 15: "Hubs hibernate with their sockets; what a hub needs after waking is durable." The
// workers pool cannot make an object hibernate while its sockets stay open (abort closes them), so
// a hub's wake is made the way the runtime makes it: a new instance of the class, built by its
// constructor over the same storage and the same runtime-held sockets, takes every event from then
// on; nothing of the old instance's memory survives. What it serves from must come from its SQLite
// (sockets, subscriptions, feed heads) and the sockets' attachments.

const WAIT = { timeout: 10_000, interval: 20 };

interface HubSocket extends Socket {
  hub: string;
}

async function openHub(key: string): Promise<HubSocket> {
  const res = await meshFetch(`/v1/ws?key=${encodeURIComponent(key)}`, { headers: { upgrade: "websocket" } });
  return { ...collect(res), hub: res.headers.get("x-mesh-hub") ?? "" };
}

const sql = <T extends Record<string, SqlStorageValue>>(hub: string, query: string) =>
  runInDurableObject(hubStub(hub), (_instance, state) => state.storage.sql.exec<T>(query).toArray());

describe("a hub waking with its sockets still open", () => {
  it("goes on serving every socket from its SQLite: live topics, a filter, a replay stopped by flow control", async () => {
    const [a, b, c] = [freshTopic("hib-a"), freshTopic("hib-b"), freshTopic("hib-c")];
    const rare: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const type = i % 3 === 1 ? "Rare" : "Thing";
      await publish(a, 5, type);
      if (type === "Rare") rare.push(...range(i * 5 + 1, i * 5 + 5));
    }
    await publish(b, 5);
    const s1 = await openHub(a);
    const s2 = await openHub(a);
    const hub = s1.hub;
    expect(s2.hub).toBe(hub);
    s1.ws.send(subscribeFrameText({ topic: a, after: 0 }));
    s1.ws.send(subscribeFrameText({ topic: b, after: 0 }));
    s2.ws.send(subscribeFrameText({ topic: a, after: 0, types: ["Rare"] }));
    await s1.until((f) => caughtUp(a)(f) && caughtUp(b)(f), "s1 caught-up");
    await s2.until(caughtUp(a), "s2 caught-up");
    await publish(a, 5, "Rare");
    rare.push(...range(31, 35));
    await s1.until((f) => seqsOf(f, a).at(-1) === 35, "s1 at 35");
    await s2.until((f) => seqsOf(f, a).at(-1) === 35, "s2 at 35");

    // A third socket replays with a small allowance and never acks: the hub stops it mid-replay.
    await runInDurableObject(hubStub(hub), (instance: SocketHub) => {
      (instance as unknown as { sender: { bounds: { maxUnackedChars: number } } }).sender.bounds.maxUnackedChars = 1500;
    });
    const s3 = await openHub(a);
    expect(s3.hub).toBe(hub);
    s3.ws.send(subscribeFrameText({ topic: a, after: 0 }));
    await s3.until((f) => f.some((x) => x.type === "mark"), "s3 stopped with a mark");
    const stoppedAt = seqsOf(s3.frames, a).at(-1) ?? 0;
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(35);

    // What the wake will read: every socket, every subscription (s3's stopped replay with its
    // cursor), the hub's position in each topic.
    expect(await sql<{ n: number }>(hub, "SELECT COUNT(*) AS n FROM sockets")).toEqual([{ n: 3 }]);
    expect(
      (await sql<{ topic: string; mode: string; cursor: number }>(hub, "SELECT topic, mode, cursor FROM subs")).sort(
        (x, y) => x.topic.localeCompare(y.topic) || x.mode.localeCompare(y.mode),
      ),
    ).toEqual([
      { topic: a, mode: "live", cursor: 30 },
      { topic: a, mode: "live", cursor: 30 },
      { topic: a, mode: "replaying", cursor: stoppedAt },
      { topic: b, mode: "live", cursor: 5 },
    ]);
    // Heads are written within HEAD_SAVE_MS of a push, before the object may hibernate.
    await vi.waitFor(
      async () =>
        expect(await sql(hub, `SELECT topic, head FROM feeds WHERE topic IN ('${a}', '${b}') ORDER BY topic`)).toEqual(
          [
            { topic: a, head: 35 },
            { topic: b, head: 5 },
          ].sort((x, y) => x.topic.localeCompare(y.topic)),
        ),
      WAIT,
    );

    await hibernateAndWake(hub);
    // The first call after the wake rebuilds the hub from SQLite and its sockets.
    expect(await hubStub(hub).stats()).toMatchObject({ hub, sockets: 3, subscriptions: 4 });
    // s3's replay goes on from where it stopped, under the woken hub's allowance.
    await s3.until(caughtUp(a), "s3 caught-up after the wake");

    await publish(a, 5);
    await publish(b, 3);
    await s1.until((f) => seqsOf(f, a).at(-1) === 40 && seqsOf(f, b).at(-1) === 8, "s1 live after the wake");
    await s3.until((f) => seqsOf(f, a).at(-1) === 40, "s3 live after the wake");
    await publish(a, 2, "Rare");
    rare.push(41, 42);
    for (const s of [s1, s2, s3]) await s.until((f) => seqsOf(f, a).at(-1) === 42, "42 after the wake");

    // The wake is invisible on the sockets: no second caught-up, no gap, nothing twice.
    expect(ofTopic(s1.frames, a)).toEqual(["subscribed", ...range(1, 30), "caught-up", ...range(31, 42)]);
    expect(ofTopic(s1.frames, b)).toEqual(["subscribed", ...range(1, 5), "caught-up", ...range(6, 8)]);
    expect(ofTopic(s2.frames, a)).toEqual([
      "subscribed",
      ...rare.filter((s) => s <= 30),
      "caught-up",
      31,
      32,
      33,
      34,
      35,
      41,
      42,
    ]);
    expect(ofTopic(s3.frames, a)).toEqual(["subscribed", ...range(1, 35), "caught-up", ...range(36, 42)]);

    // The restored sockets take frames with their scope: a new topic, an unsubscribe.
    s1.ws.send(subscribeFrameText({ topic: c, after: 0 }));
    s1.ws.send(unsubscribeFrameText(b));
    await s1.until((f) => caughtUp(c)(f) && f.some((x) => x.type === "unsubscribed" && x.topic === b), "c and b");
    await publish(b, 1);
    await publish(c, 2);
    await s1.until((f) => seqsOf(f, c).at(-1) === 2, "c live");
    expect(seqsOf(s1.frames, b).at(-1)).toBe(8);
    for (const s of [s1, s2, s3]) expect(s.ws.readyState).toBe(WebSocket.OPEN);
    for (const s of [s1, s2, s3]) s.ws.close(1000);
  });

  it("keeps a socket's CloudEvents filter across the wake: stored with its subscription, applied to what comes after", async () => {
    const topic = freshTopic("hib-filter");
    for (let i = 0; i < 4; i += 1) await publish(topic, 5, i % 2 === 0 ? "Thing" : "Rare");
    const sock = await openHub(topic);
    const filter = [{ suffix: { type: "are" } }];
    sock.ws.send(subscribeFrameText({ topic, after: 0, filter }));
    await sock.until(caughtUp(topic), "caught-up");
    expect(await sql(sock.hub, `SELECT filter FROM subs WHERE topic = '${topic}'`)).toEqual([
      { filter: JSON.stringify(filter) },
    ]);

    await hibernateAndWake(sock.hub);
    await publish(topic, 2);
    await publish(topic, 2, "Rare");
    await sock.until((f) => seqsOf(f, topic).at(-1) === 24, "24 after the wake");
    expect(ofTopic(sock.frames, topic)).toEqual(["subscribed", ...range(6, 10), ...range(16, 20), "caught-up", 23, 24]);
    sock.ws.close(1000);
  });

  it("applies a push after the wake from the head it stored: behind past it, nothing twice below it", async () => {
    const topic = freshTopic("hib-push");
    await publish(topic, 3);
    const sock = await openHub(topic);
    sock.ws.send(subscribeFrameText({ topic, after: 0 }));
    await sock.until(caughtUp(topic), "caught-up");
    await publish(topic, 2);
    await sock.until((f) => seqsOf(f, topic).at(-1) === 5, "live at 5");
    const epoch = sock.frames.find((f) => f.type === "caught-up")?.epoch ?? "";
    const hub = hubStub(sock.hub);

    await hibernateAndWake(sock.hub);
    // A push that starts past the stored head: the hub lacks 6..7 and says where it stands.
    expect(await hub.deliver({ topic, epoch, prev: 7, rows: [], head: 8 })).toEqual({
      ok: false,
      code: "behind",
      head: 5,
    });
    // A push of rows it already holds (a topic restarted without knowing the hub's position) sends nothing.
    const page = await env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic)).readPage(topic, 3, 10);
    expect(page.ok && page.rows.map((r) => r.seq)).toEqual([4, 5]);
    if (!page.ok) throw new Error("no page");
    expect(await hub.deliver({ topic, epoch, prev: 3, rows: page.rows, head: 5 })).toEqual({
      ok: true,
      head: 5,
      subscribers: 1,
    });
    await publish(topic, 1);
    await sock.until((f) => seqsOf(f, topic).at(-1) === 6, "6 after the wake");
    await vi.waitFor(
      async () => expect(await sql(sock.hub, `SELECT head FROM feeds WHERE topic = '${topic}'`)).toEqual([{ head: 6 }]),
      WAIT,
    );
    expect(ofTopic(sock.frames, topic)).toEqual(["subscribed", 1, 2, 3, "caught-up", 4, 5, 6]);
    sock.ws.close(1000);
  });
});
