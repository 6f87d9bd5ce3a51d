import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SocketHub } from "../../durable-objects/socket-hub.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import type { EventFilter } from "../../protocol/event-filter.ts";
import { authFrame, type ServerFrame, unsubscribeFrameText } from "../../protocol/frames.ts";
import { readConfig } from "../../runtime/config.ts";
import { hubName, rankHubs } from "../../worker/hub-choice.ts";
import { hubStub, openHub, token } from "./support/hub-socket.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { caughtUp, ofTopic, seqsOf } from "./support/socket.ts";
import { freshTopic } from "./topic-client.ts";

// REPLAY_PAGE_SIZE is 10 in the workers pool, so replays from a topic's log span several pages.

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
let published = 0;

/** Publishes `count` events of `type`; `attributes` adds context attributes to the i-th of them. */
async function publish(
  topic: string,
  count: number,
  type = "Thing",
  attributes: (i: number) => Record<string, string> = () => ({}),
): Promise<void> {
  const first = published + 1;
  published += count;
  const batch = Array.from({ length: count }, (_, i) => ({
    id: `h${first + i}`,
    source: "hub-test",
    type,
    specversion: "1.0",
    ...attributes(i),
  }));
  const res = await meshFetch(`/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(batch),
  });
  expect(res.status).toBe(201);
}

const lastSeq = (topic: string, seq: number) => (frames: ServerFrame[]) => seqsOf(frames, topic).at(-1) === seq;

describe("one socket, many topics (/v1/ws)", () => {
  it("follows several topics, each with its own cursor: replay, caught-up, then live, in order", async () => {
    const [a, b] = [freshTopic("hub-a"), freshTopic("hub-b")];
    await publish(a, 25);
    await publish(b, 5);
    const sock = await openHub({ key: a });
    expect(sock.hub).toMatch(/^hub-\d+$/);
    sock.subscribe(a, { after: 3 });
    sock.subscribe(b);
    await sock.until((f) => caughtUp(a)(f) && caughtUp(b)(f), "caught-up on both");
    await publish(a, 5);
    await publish(b, 5);
    await sock.until((f) => lastSeq(a, 30)(f) && lastSeq(b, 10)(f), "live events");
    expect(ofTopic(sock.frames, a)).toEqual(["subscribed", ...range(4, 25), "caught-up", ...range(26, 30)]);
    expect(ofTopic(sock.frames, b)).toEqual(["subscribed", ...range(1, 5), "caught-up", ...range(6, 10)]);
    expect(sock.frames.find((f) => f.type === "subscribed" && f.topic === a)).toEqual({
      type: "subscribed",
      topic: a,
      after: 3,
    });
    expect(sock.frames.find((f) => f.type === "caught-up" && f.topic === a)).toMatchObject({ head: 25 });
    sock.ws.close();
  });

  it("resumes exactly, from the hub's window or from the topic's log, with no gap and no duplicate", async () => {
    const topic = freshTopic("hub-seam");
    await publish(topic, 30);
    const first = await openHub({ key: topic });
    first.subscribe(topic);
    await first.until(caughtUp(topic), "first caught-up");
    // Pushed since the hub attached at 30: the window holds 31..45.
    await publish(topic, 15);
    await first.until(lastSeq(topic, 45), "first at 45");

    const fromWindow = await openHub({ key: topic });
    const fromLog = await openHub({ key: topic });
    expect([fromWindow.hub, fromLog.hub]).toEqual([first.hub, first.hub]);
    const pullsBefore = (await hubStub(first.hub).stats()).pulls;
    fromWindow.subscribe(topic, { after: 40 });
    await fromWindow.until(caughtUp(topic), "window caught-up");
    expect((await hubStub(first.hub).stats()).pulls).toBe(pullsBefore);
    fromLog.subscribe(topic, { after: 7 });
    await fromLog.until(caughtUp(topic), "log caught-up");
    expect((await hubStub(first.hub).stats()).pulls).toBeGreaterThan(pullsBefore);

    await publish(topic, 5);
    for (const sock of [first, fromWindow, fromLog]) await sock.until(lastSeq(topic, 50), "seq 50");
    expect(ofTopic(fromWindow.frames, topic)).toEqual(["subscribed", ...range(41, 45), "caught-up", ...range(46, 50)]);
    expect(ofTopic(fromLog.frames, topic)).toEqual(["subscribed", ...range(8, 45), "caught-up", ...range(46, 50)]);
    expect(seqsOf(first.frames, topic)).toEqual(range(1, 50));
    for (const sock of [first, fromWindow, fromLog]) sock.ws.close();
  });

  it("resumes exactly while events are being published, and on another hub than before", async () => {
    const topic = freshTopic("hub-move");
    await publish(topic, 12);
    const before = await openHub({ key: topic });
    before.subscribe(topic);
    await before.until(lastSeq(topic, 12), "first hub at 12");
    before.ws.close();
    // The socket comes back on some other hub with its cursor while publishes go on.
    const after = await openHub({ key: `${topic}-elsewhere` });
    after.subscribe(topic, { after: 12 });
    const publishing = (async () => {
      for (let i = 0; i < 5; i += 1) await publish(topic, 3);
    })();
    await publishing;
    await after.until(lastSeq(topic, 27), "seq 27");
    const frames = ofTopic(after.frames, topic);
    expect(seqsOf(after.frames, topic)).toEqual(range(13, 27));
    expect(frames.filter((f) => f === "caught-up")).toHaveLength(1);
    after.ws.close();
  });

  it("filters by type, answers unsubscribe, and a second subscribe to a topic replaces the first", async () => {
    const topic = freshTopic("hub-types");
    const sock = await openHub({ key: topic, batch: "true" });
    sock.subscribe(topic, { types: ["Wanted"] });
    await sock.until(caughtUp(topic), "caught-up");
    await publish(topic, 2, "Other");
    await publish(topic, 2, "Wanted");
    await sock.until(lastSeq(topic, 4), "seq 4");
    expect(seqsOf(sock.frames, topic)).toEqual([3, 4]);

    sock.subscribe(topic, { after: 1 });
    await sock.until((f) => f.filter((x) => x.type === "caught-up").length === 2, "second caught-up");
    const second = sock.frames.slice(sock.frames.findLastIndex((f) => f.type === "subscribed"));
    expect(ofTopic(second, topic)).toEqual(["subscribed", 2, 3, 4, "caught-up"]);

    sock.ws.send(unsubscribeFrameText(topic));
    await sock.until((f) => f.some((x) => x.type === "unsubscribed"), "unsubscribed");
    expect(sock.frames.at(-1)).toEqual({ type: "unsubscribed", topic });
    await publish(topic, 1, "Wanted");
    // Another topic's event shows the socket is served and the unsubscribed topic is not.
    const other = freshTopic("hub-types-other");
    sock.subscribe(other);
    await sock.until(caughtUp(other), "other caught-up");
    expect(seqsOf(sock.frames, topic).at(-1)).toBe(4);
    sock.ws.close();
  });

  it("says gap per topic: a cursor of another epoch starts over from the oldest event", async () => {
    const topic = freshTopic("hub-epoch");
    await publish(topic, 4);
    const sock = await openHub({ key: topic });
    sock.subscribe(topic, { after: 2, epoch: "not-this-log" });
    await sock.until(caughtUp(topic), "caught-up");
    expect(ofTopic(sock.frames, topic)).toEqual(["subscribed", "gap", 1, 2, 3, 4, "caught-up"]);
    expect(sock.frames.find((f) => f.type === "gap")).toMatchObject({ after: 2, oldest: 1, reason: "epoch" });
    sock.ws.close();
  });

  it("refuses one topic and keeps the socket: forbidden, cursor ahead, too many topics, a malformed frame", async () => {
    const allowed = freshTopic("hubok");
    const { token: jwt } = await token(["hubok*"]);
    const sock = await openHub({ key: allowed }, jwt);
    sock.subscribe("secret.topic");
    sock.ws.send("{not json");
    sock.ws.send(JSON.stringify({ type: "subscribe", topic: "Bad Name!" }));
    sock.subscribe(allowed, { after: 99 });
    await sock.until((f) => f.filter((x) => x.type === "unsubscribed" || x.type === "error").length === 4, "refusals");
    // Answers to frames sent back to back were seen in another order than the frames on the pool's
    // sockets (about one run in five), so what each frame got is checked, not the order across them.
    const answers = sock.frames.map((f) => `${f.type}:${"code" in f ? f.code : ""}`);
    expect([...answers].sort()).toEqual(
      [
        "unsubscribed:forbidden",
        "error:invalid_body",
        "error:invalid_body",
        "subscribed:",
        "unsubscribed:cursor_ahead",
      ].sort(),
    );
    expect(answers.indexOf("subscribed:")).toBeLessThan(answers.indexOf("unsubscribed:cursor_ahead"));
    // Each malformed frame is answered with what was wrong in it.
    const messages = sock.frames.flatMap((f) => (f.type === "error" ? [f.message] : []));
    expect(messages).toHaveLength(2);
    expect(messages.some((m) => /^topic: /.test(m))).toBe(true);
    expect(messages.some((m) => /^a frame is ping/.test(m))).toBe(true);

    await runInDurableObject(hubStub(sock.hub), (instance: SocketHub) => {
      (instance as unknown as { deps: { maxTopicsPerSocket: number } }).deps.maxTopicsPerSocket = 2;
    });
    const [one, two, three] = [freshTopic("hubok1"), freshTopic("hubok2"), freshTopic("hubok3")];
    // One at a time: which two of three frames sent together count first is not what this checks.
    for (const topic of [one, two]) {
      sock.subscribe(topic);
      await sock.until(caughtUp(topic), `${topic} followed`);
    }
    sock.subscribe(three);
    await sock.until((f) => f.some((x) => x.type === "unsubscribed" && x.topic === three), "third refused");
    expect(sock.frames.find((f) => f.type === "unsubscribed" && f.topic === three)).toMatchObject({
      code: "too_many_subscriptions",
    });
    await runInDurableObject(hubStub(sock.hub), (instance: SocketHub) => {
      (instance as unknown as { deps: { maxTopicsPerSocket: number } }).deps.maxTopicsPerSocket = 100;
    });
    expect(sock.ws.readyState).toBe(WebSocket.OPEN);
    sock.ws.close();
  });
});

describe("hub capacity", () => {
  it("refuses past its socket limit with 503 hub_full, and the Worker lands the socket on another hub", async () => {
    const key = freshTopic("hub-full");
    const first = await openHub({ key });
    const { hubPoolSize, hubMaxSockets } = readConfig(env);
    expect(first.hub).toBe(hubName(rankHubs(key, hubPoolSize)[0]));
    await runInDurableObject(hubStub(first.hub), async (instance: SocketHub) => {
      (instance as unknown as { limits: { maxSockets: number } }).limits.maxSockets = 1;
      const refused = await instance.fetch(
        new Request("http://hub/v1/ws", { headers: { upgrade: "websocket", "x-mesh-hub": first.hub } }),
      );
      expect(refused.status).toBe(503);
      expect(refused.headers.get("x-mesh-refusal")).toBe("hub_full");
    });
    const second = await openHub({ key });
    expect(second.hub).toBe(hubName(rankHubs(key, hubPoolSize)[1]));
    const topic = freshTopic("hub-full-topic");
    second.subscribe(topic);
    await second.until(caughtUp(topic), "served on the second hub");
    await runInDurableObject(hubStub(first.hub), (instance: SocketHub) => {
      (instance as unknown as { limits: { maxSockets: number } }).limits.maxSockets = hubMaxSockets;
    });
    first.ws.close();
    second.ws.close();
  });
});

describe("tokens on hub sockets", () => {
  it("closes a socket with 4440 when its token expires, from the hub's alarm", async () => {
    const topic = freshTopic("hubtok");
    const { token: jwt } = await token([topic]);
    const sock = await openHub({ key: topic }, jwt);
    sock.subscribe(topic);
    await sock.until(caughtUp(topic), "caught-up");
    await runInDurableObject(hubStub(sock.hub), async (_instance: SocketHub, state) => {
      state.storage.sql.exec("UPDATE sockets SET expires_at = ? WHERE expires_at IS NOT NULL", Date.now() - 1);
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
    expect(await runDurableObjectAlarm(hubStub(sock.hub))).toBe(true);
    expect(await sock.closed).toEqual({ code: CLOSE.tokenExpired, reason: "token_expired" });
    expect(sock.frames.at(-1)).toMatchObject({ type: "error", code: "token_expired" });
  });

  it("takes a refreshed token in band, and refuses one that does not cover a followed topic", async () => {
    const topic = freshTopic("hubref");
    const sock = await openHub({ key: topic }, (await token([`${topic}*`])).token);
    sock.subscribe(topic);
    await sock.until(caughtUp(topic), "caught-up");
    sock.ws.send(authFrame((await token([topic], { ttlSeconds: 900 })).token));
    await sock.until((f) => f.some((x) => x.type === "token-refreshed"), "token-refreshed");
    sock.ws.send(authFrame((await token([`${topic}.other`])).token));
    expect(await sock.closed).toEqual({ code: CLOSE.forbidden, reason: "forbidden" });
  });

  it("closes the hub sockets of a revoked token with 4401", async () => {
    const topic = freshTopic("hubrev");
    const { token: jwt, tokenId } = await token([topic]);
    const sock = await openHub({ key: topic }, jwt);
    sock.subscribe(topic);
    await sock.until(caughtUp(topic), "caught-up");
    const res = await meshFetch("/v1/tokens/revocations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tokenId }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()) as { disconnected: number }).toMatchObject({ disconnected: 1 });
    expect(await sock.closed).toEqual({ code: CLOSE.unauthorized, reason: "token_revoked" });
  });
});

describe("filters on /v1/ws (CloudEvents Subscriptions API dialects)", () => {
  const eu: EventFilter[] = [{ exact: { region: "eu" } }, { prefix: { subject: "orders/" } }];
  /** Publishes orders `first`.. of `region` to a fresh topic, each's subject `orders/<its seq>`. */
  const orders = (topic: string, first: number, count: number, region: string) =>
    publish(topic, count, "OrderPlaced", (i) => ({ region, subject: `orders/${first + i}` }));

  it("sends only matching events in replay and live; the cursor passes the rest, and resume after them is exact", async () => {
    const topic = freshTopic("hub-filter");
    await orders(topic, 1, 12, "eu");
    // A whole page of the log (10 rows here) matches nothing.
    await orders(topic, 13, 15, "us");
    await orders(topic, 28, 3, "eu");
    const first = await openHub({ key: topic, batch: "true" });
    first.subscribe(topic, { filter: eu });
    // not, any and all nested, over the subject and an extension attribute.
    const nested: EventFilter[] = [
      {
        any: [
          { suffix: { subject: "/13" } },
          { all: [{ exact: { region: "us" } }, { not: { suffix: { subject: "/15" } } }] },
        ],
      },
    ];
    first.subscribe(`${topic}-none`, { filter: [{ exact: { region: "nowhere" } }] });
    await first.until(caughtUp(topic), "caught-up");
    // Published before any socket followed the topic: served from the topic's log, page by page.
    expect(ofTopic(first.frames, topic)).toEqual(["subscribed", ...range(1, 12), 28, 29, 30, "caught-up"]);
    expect(first.frames.find((f) => f.type === "caught-up" && f.topic === topic)).toMatchObject({ head: 30 });

    // Live: a stretch that matches nothing, then one that does.
    await orders(topic, 31, 5, "us");
    await orders(topic, 36, 1, "eu");
    await first.until(lastSeq(topic, 36), "live 36");
    expect(seqsOf(first.frames, topic).slice(-2)).toEqual([30, 36]);

    // Resumes on the same hub: after the last event shown (30), from the middle of the filtered
    // stretch of the log (12), and with another filter from the start.
    const again = await openHub({ key: topic });
    expect(again.hub).toBe(first.hub);
    const fromMiddle = await openHub({ key: topic });
    again.subscribe(topic, { after: 30, filter: eu });
    fromMiddle.subscribe(topic, { after: 12, filter: eu });
    const other = await openHub({ key: topic });
    other.subscribe(topic, { filter: nested });
    for (const sock of [again, fromMiddle, other]) await sock.until(caughtUp(topic), "resumed");
    expect(ofTopic(again.frames, topic)).toEqual(["subscribed", 36, "caught-up"]);
    expect(ofTopic(fromMiddle.frames, topic)).toEqual(["subscribed", 28, 29, 30, 36, "caught-up"]);
    expect(ofTopic(other.frames, topic)).toEqual([
      "subscribed",
      13,
      14,
      ...range(16, 27),
      ...range(31, 35),
      "caught-up",
    ]);
    for (const sock of [again, fromMiddle, other]) {
      expect(sock.frames.find((f) => f.type === "caught-up" && f.topic === topic)).toMatchObject({ head: 36 });
    }

    // The filter is kept with the socket's subscription in the hub's SQLite (hibernation, restarts).
    const stored = await runInDurableObject(hubStub(first.hub), async (_hub: SocketHub, state) =>
      state.storage.sql.exec<{ filter: string | null }>("SELECT filter FROM subs WHERE topic = ?", topic).toArray(),
    );
    expect(stored.map((row) => row.filter)).toContain(JSON.stringify(eu));
    expect(seqsOf(first.frames, `${topic}-none`)).toEqual([]);
    for (const sock of [first, again, fromMiddle, other]) sock.ws.close();
  });

  it("refuses a malformed or oversized filter with an error naming it, and keeps the socket", async () => {
    const topic = freshTopic("hub-filter-bad");
    await orders(topic, 1, 2, "eu");
    const sock = await openHub({ key: topic });
    let deep: unknown = { exact: { region: "eu" } };
    for (let i = 0; i < 50; i++) deep = { not: deep };
    sock.ws.send(JSON.stringify({ type: "subscribe", topic, filter: [{ exact: { region: "" } }] }));
    sock.ws.send(JSON.stringify({ type: "subscribe", topic, filter: [{ sql: "region = 'eu'" }] }));
    sock.ws.send(JSON.stringify({ type: "subscribe", topic, filter: [deep] }));
    await sock.until((f) => f.filter((x) => x.type === "error").length === 3, "three refusals");
    const messages = sock.frames.flatMap((f) => (f.type === "error" ? [`${f.code} ${f.message}`] : []));
    expect([...messages].sort()).toEqual(
      [
        "invalid_body filter.0.exact.region: an attribute value in a filter must not be empty",
        "invalid_body filter.0.sql: a filter is an object with one dialect: exact, prefix, suffix, all, any, not",
        "invalid_body filter: filters nest at most 8 levels (all, any, not)",
      ].sort(),
    );
    sock.subscribe(topic, { filter: [{ suffix: { subject: "/2" } }] });
    await sock.until(caughtUp(topic), "caught-up after the refusals");
    expect(seqsOf(sock.frames, topic)).toEqual([2]);
    sock.ws.close();
  });
});
