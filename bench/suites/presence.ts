import WebSocket from "ws";
import { presenceEnterFrameText, presenceFollowFrameText, presenceLeaveFrameText } from "../../protocol/presence.ts";
import { MarkAcks } from "../lib/acks.ts";
import type { BenchContext } from "../lib/context.ts";
import { nowMs } from "../lib/events.ts";
import { httpRequest, postOk } from "../lib/http.ts";
import { makeRow, type Row } from "../lib/rows.ts";
import { withTimeout } from "../lib/stats.ts";

/** A socket of the bench: its texts go to `onText`, marks are acknowledged as the mesh client does. */
interface BenchSocket {
  ws: WebSocket;
  onText: (text: string) => void;
}

/** Mints a token whose subject is `member` and opens `/v1/ws` on it (routing key: the topic). */
async function openMember(ctx: BenchContext, topic: string, member: string): Promise<BenchSocket> {
  const body = JSON.stringify({ topics: [topic], ops: ["subscribe"], ttlSeconds: 3600, subject: member });
  const headers = { ...ctx.mesh.headers, "content-type": "application/json" };
  const { token } = JSON.parse(await postOk(`${ctx.mesh.url}/v1/tokens`, headers, body)) as { token: string };
  const ws = new WebSocket(`${ctx.mesh.wsUrl}/v1/ws?key=${topic}&token=${token}`, { perMessageDeflate: false });
  const socket: BenchSocket = { ws, onText: () => {} };
  const acks = new MarkAcks((text) => ws.send(text));
  ws.on("message", (data: WebSocket.RawData) => {
    const text = data.toString();
    acks.read(text);
    socket.onText(text);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return socket;
}

/** Opens `count` members, 50 at a time (as the other suites open subscribers). */
async function openMembers(ctx: BenchContext, topic: string, count: number): Promise<BenchSocket[]> {
  const sockets: BenchSocket[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, i) =>
      openMember(ctx, topic, `m-${String(start + i).padStart(6, "0")}`),
    );
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

/** Resolves with the time (ms) at which `socket` first receives a text that `done` accepts. */
function seen(socket: BenchSocket, done: (text: string) => boolean): Promise<number> {
  return new Promise((resolve) => {
    socket.onText = (text) => {
      if (done(text)) resolve(nowMs());
    };
  });
}

const occupancyIs = (members: number) => (text: string) =>
  text.startsWith('{"type":"occupancy"') && (JSON.parse(text) as { members: number }).members === members;

/**
 * 8. Presence. Join/leave rate: `members` sockets, each on a token of its own subject, enter one
 * topic's presence (then leave it) as fast as they can; a `members` follower takes the time until
 * the occupancy it is sent says all have (until it says none is left). Large rooms: with
 * `occupancyMembers` present, how long a count follower waits for its first occupancy, a members
 * follower for the whole list (pages of 1,000 under flow control), and a reader for every page of
 * `GET /v1/topics/:topic/presence`. Redis is the peer for the rates: a hash per room (HSET/HDEL)
 * and a PUBLISH per change, what an app builds itself, with no heartbeat bound or linger.
 */
export async function presenceSuite(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.options.presence;
  const timeout = o.timeoutSeconds * 1000;
  const rows: Row[] = [];
  const row = (
    measure: string,
    unit: string,
    better: "higher" | "lower",
    mesh: number,
    peer: string,
    peerValue: number,
  ) => rows.push(makeRow({ section: "presence", measure, unit, better }, [mesh], peer, [peerValue]));

  // Join and leave rate.
  const topic = `presence-rate-${Date.now()}`;
  const members = await openMembers(ctx, topic, o.members);
  const follower = await openMember(ctx, topic, "follower");
  const followed = seen(follower, occupancyIs(0));
  // A members follower: it is pushed every round of changes (counts-only hubs get at most one a second).
  follower.ws.send(presenceFollowFrameText(topic, "members"));
  await withTimeout(followed, timeout, "presence: the follower's first occupancy");
  const joinedAt = seen(follower, occupancyIs(o.members));
  const joinStart = nowMs();
  for (const m of members) m.ws.send(presenceEnterFrameText({ topic, data: { n: 1 } }));
  const joinMs = (await withTimeout(joinedAt, timeout, "presence: every join counted")) - joinStart;
  const leftAt = seen(follower, occupancyIs(0));
  const leaveStart = nowMs();
  for (const m of members) m.ws.send(presenceLeaveFrameText(topic));
  const leaveMs = (await withTimeout(leftAt, timeout, "presence: every leave counted")) - leaveStart;
  const redis = await redisRates(ctx, o.members);
  const audience = `${o.members.toLocaleString("en-US")} members of one topic`;
  row(
    `joins/s, ${audience}, counted by a follower`,
    "joins/s",
    "higher",
    (o.members * 1000) / joinMs,
    "Redis HSET + PUBLISH",
    redis.joinsPerSecond,
  );
  row(
    `leaves/s, ${audience}, counted by a follower`,
    "leaves/s",
    "higher",
    (o.members * 1000) / leaveMs,
    "Redis HDEL + PUBLISH",
    redis.leavesPerSecond,
  );
  for (const s of [...members, follower]) s.ws.close();

  // A large room.
  const room = `presence-room-${Date.now()}`;
  const present = await openMembers(ctx, room, o.occupancyMembers);
  const watcher = await openMember(ctx, room, "watcher");
  const allIn = seen(watcher, occupancyIs(o.occupancyMembers));
  watcher.ws.send(presenceFollowFrameText(room, "count"));
  for (const m of present) m.ws.send(presenceEnterFrameText({ topic: room, data: { name: "a member of the room" } }));
  await withTimeout(allIn, timeout, "presence: the room filled");
  const size = `${o.occupancyMembers.toLocaleString("en-US")} members present`;

  const counter = await openMember(ctx, room, "counter");
  const countStart = nowMs();
  const counted = seen(counter, occupancyIs(o.occupancyMembers));
  counter.ws.send(presenceFollowFrameText(room, "count"));
  const countMs = (await withTimeout(counted, timeout, "presence: counts")) - countStart;

  const lister = await openMember(ctx, room, "lister");
  const listStart = nowMs();
  const listed = seen(lister, occupancyIs(o.occupancyMembers));
  lister.ws.send(presenceFollowFrameText(room, "members"));
  const listMs = (await withTimeout(listed, timeout, "presence: the whole list")) - listStart;

  const pagesStart = nowMs();
  let cursor: string | null = "";
  let read = 0;
  while (cursor !== null) {
    const query = `?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res = await httpRequest("GET", `${ctx.mesh.url}/v1/topics/${room}/presence${query}`, ctx.mesh.headers);
    const page = JSON.parse(res.body) as { members: unknown[]; next: string | null };
    read += page.members.length;
    cursor = page.next;
  }
  const pagesMs = nowMs() - pagesStart;
  const redisRoom = await redisRoomReads(ctx, o.occupancyMembers);
  row(`occupancy to a new count follower, ${size}`, "ms", "lower", countMs, "Redis HLEN", redisRoom.countMs);
  row(`whole member list to a new members follower, ${size}`, "ms", "lower", listMs, "Redis HGETALL", redisRoom.listMs);
  row(
    `every page of GET /v1/topics/:topic/presence (1,000 a page), ${size}`,
    "ms",
    "lower",
    pagesMs,
    "Redis HSCAN (COUNT 1000)",
    redisRoom.scanMs,
  );
  row(`members read over HTTP, ${size}`, "members", "higher", read, "members present", o.occupancyMembers);
  for (const s of [...present, watcher, counter, lister]) s.ws.close();
  return rows;
}

/** The peer: `count` members joining then leaving a Redis hash, each change published, counted by a subscriber. */
async function redisRates(
  ctx: BenchContext,
  count: number,
): Promise<{ joinsPerSecond: number; leavesPerSecond: number }> {
  const room = `presence-rate-${Date.now()}`;
  const sub = ctx.redis.duplicate();
  await sub.subscribe(room);
  let seenChanges = 0;
  let waiting: (() => void) | null = null;
  sub.on("message", () => {
    seenChanges += 1;
    if (seenChanges % count === 0) waiting?.();
  });
  const phase = async (op: (i: number) => Promise<unknown>) => {
    const done = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const start = nowMs();
    await Promise.all(Array.from({ length: count }, (_, i) => op(i)));
    await done;
    return nowMs() - start;
  };
  const joinMs = await phase((i) =>
    ctx.redis.multi().hset(room, `m-${i}`, '{"n":1}').publish(room, `join m-${i}`).exec(),
  );
  const leaveMs = await phase((i) => ctx.redis.multi().hdel(room, `m-${i}`).publish(room, `leave m-${i}`).exec());
  await sub.quit();
  return { joinsPerSecond: (count * 1000) / joinMs, leavesPerSecond: (count * 1000) / leaveMs };
}

/** The peer's reads of a room of `count` members: its count, the whole hash, and a scan in pages. */
async function redisRoomReads(
  ctx: BenchContext,
  count: number,
): Promise<{ countMs: number; listMs: number; scanMs: number }> {
  const room = `presence-room-${Date.now()}`;
  for (let start = 0; start < count; start += 1000) {
    const pipe = ctx.redis.pipeline();
    for (let i = start; i < Math.min(count, start + 1000); i += 1)
      pipe.hset(room, `m-${i}`, '{"name":"a member of the room"}');
    await pipe.exec();
  }
  let t = nowMs();
  await ctx.redis.hlen(room);
  const countMs = nowMs() - t;
  t = nowMs();
  await ctx.redis.hgetall(room);
  const listMs = nowMs() - t;
  t = nowMs();
  let cursor = "0";
  do {
    [cursor] = await ctx.redis.hscan(room, cursor, "COUNT", 1000);
  } while (cursor !== "0");
  const scanMs = nowMs() - t;
  await ctx.redis.del(room);
  return { countMs, listMs, scanMs };
}
