import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { TopicLog } from "../../durable-objects/topic-log.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import { HEARTBEAT_PING, HEARTBEAT_PONG, type ServerFrame, subscribeFrameText } from "../../protocol/frames.ts";
import { acceptedEvent } from "../../protocol/mesh-event.ts";
import { readConfig } from "../../runtime/config.ts";
import { hubName, rankHubs } from "../../worker/hub-choice.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { collect, type Socket, summary } from "./support/socket.ts";

// REPLAY_PAGE_SIZE is 10 in vitest.workers.config.ts, so every replay below spans several pages.

async function connect(topic: string, query = ""): Promise<Socket> {
  const res = await meshFetch(`http://mesh/v1/topics/${topic}/ws${query}`, {
    headers: { upgrade: "websocket" },
  });
  return collect(res);
}

function seqs(frames: ServerFrame[]): number[] {
  return frames.flatMap((f) => (f.type === "event" ? [f.event.seq] : []));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function publish(topic: string, ids: number[], type = "Thing"): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100).map((n) => ({ id: `e${n}`, source: "live-test", type, specversion: "1.0" }));
    const res = await meshFetch(`http://mesh/v1/topics/${topic}/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(batch),
    });
    expect(res.status).toBe(201);
  }
}
/** Well-formed stored events with ids `e<from>`..`e<to>`, for publishing straight to the DO. */
function events(from: number, to: number) {
  return range(from, to).map((n) => ({
    id: `e${n}`,
    source: "live-test",
    type: "Thing",
    specversion: "1.0",
    time: new Date().toISOString(),
  }));
}

const stub = (topic: string) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));

/** Makes events up to `seq` older than any retention and runs the trimming alarm for real. */
async function expire(topic: string, seq: number): Promise<void> {
  await runInDurableObject(stub(topic), async (_instance: TopicLog, state) => {
    state.storage.sql.exec("UPDATE events SET at = 0 WHERE seq <= ?", seq);
    state.storage.sql.exec("UPDATE meta SET value = '0' WHERE key = 'trim_due'");
    // The publish armed the alarm (at the first expiry); runDurableObjectAlarm fires it now.
    expect(await state.storage.getAlarm()).not.toBeNull();
  });
  // Retention trims in bounded chunks, one alarm run each, the next due at once. An alarm armed for
  // right now may also fire on its own before this runs it, so run it until nothing more is due.
  await vi.waitFor(
    async () => {
      await runDurableObjectAlarm(stub(topic));
      const due = await runInDurableObject(stub(topic), (_instance: TopicLog, state) =>
        Number(
          state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'trim_due'").toArray()[0]
            ?.value ?? Infinity,
        ),
      );
      expect(due).toBeGreaterThan(Date.now());
    },
    { timeout: 10_000, interval: 20 },
  );
}

describe("live WebSocket frames", () => {
  it("replays after+1..head, then caught-up, then live events, in that order", async () => {
    await publish("order", range(1, 25));
    const sock = await connect("order", "?after=3");
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    await publish("order", range(26, 30));
    await sock.until((f) => seqs(f).at(-1) === 30, "seq 30");
    expect(sock.frames.map(summary)).toEqual([...range(4, 25), "caught-up", ...range(26, 30)]);
    const caughtUp = sock.frames.find((f) => f.type === "caught-up");
    expect(caughtUp).toMatchObject({ topic: "order", head: 25, epoch: expect.any(String) });
    const first = sock.frames[0];
    expect(first).toMatchObject({
      type: "event",
      topic: "order",
      event: { id: "e4", source: "live-test", seq: 4 },
    });
    // Every text on the socket is a valid frame.
    expect(sock.texts.length).toBe(sock.frames.length);
    sock.ws.close(1000);
  });

  it("joins replay and live at the seam: exactly 51..150 once each, in order", async () => {
    await publish("seam", range(1, 100));
    const sock = await connect("seam", "?after=50");
    // The hub reads the topic's log a page (10 events) per call, so this publish lands while the
    // socket is still replaying; the hub then holds 101..125 in its window, pushed by the topic.
    await stub("seam").publish("seam", events(101, 125).map(acceptedEvent));
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    await stub("seam").publish("seam", events(126, 150).map(acceptedEvent));
    await sock.until((f) => seqs(f).at(-1) === 150, "seq 150");
    sock.ws.close(1000);
    const frames = sock.frames;
    expect(seqs(frames)).toEqual(range(51, 150));
    // 101..125 were appended mid-replay and came in the replay; 126..150 came live.
    expect(frames.map(summary).indexOf("caught-up")).toBe(75);
    expect(frames[75]).toMatchObject({ type: "caught-up", head: 125 });
  });

  it("stays exact when publishes race a replay through the Worker route", async () => {
    await publish("race", range(1, 100));
    const connecting = connect("race", "?after=50");
    await Promise.all(range(101, 150).map((n) => publish("race", [n])));
    const sock = await connecting;
    await sock.until((f) => seqs(f).at(-1) === 150 && f.some((x) => x.type === "caught-up"), "51..150");
    expect(seqs(sock.frames)).toEqual(range(51, 150));
    sock.ws.close(1000);
  });

  it("filters by event types in replay and live", async () => {
    await publish("filtered", [1, 2, 3], "A");
    await publish("filtered", [4, 5], "B");
    await publish("filtered", [6], "A");
    const sock = await connect("filtered", "?types=A,C");
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    await publish("filtered", [7], "B");
    await publish("filtered", [8], "A");
    await sock.until((f) => seqs(f).includes(8), "seq 8");
    expect(sock.frames.map(summary)).toEqual([1, 2, 3, 6, "caught-up", 8]);
    expect(sock.frames.find((f) => f.type === "caught-up")).toMatchObject({ head: 6 });
    sock.ws.close(1000);
  });

  it("filters by CloudEvents filters, given as the JSON of the filter parameter, in replay and live", async () => {
    await publish("cefiltered", [1, 2, 3], "A");
    await publish("cefiltered", [4, 5], "B");
    await publish("cefiltered", [6], "A");
    const filter = JSON.stringify([{ any: [{ exact: { type: "A" } }, { suffix: { id: "5" } }] }]);
    const sock = await connect("cefiltered", `?filter=${encodeURIComponent(filter)}`);
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    await publish("cefiltered", [7], "B");
    await publish("cefiltered", [8], "A");
    await sock.until((f) => seqs(f).includes(8), "seq 8");
    expect(sock.frames.map(summary)).toEqual([1, 2, 3, 5, 6, "caught-up", 8]);
    expect(sock.frames.find((f) => f.type === "caught-up")).toMatchObject({ head: 6 });
    sock.ws.close(1000);
  });

  it("answers heartbeats with pong and refuses other client frames without closing", async () => {
    await publish("heartbeat", [1]);
    const sock = await connect("heartbeat");
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    sock.ws.send("hello");
    await sock.until((f) => f.some((x) => x.type === "error"), "error frame");
    expect(sock.frames.find((f) => f.type === "error")).toMatchObject({ code: "invalid_body" });
    sock.ws.send(HEARTBEAT_PING);
    await new Promise<void>((resolve) => {
      const check = () => (sock.texts.includes(HEARTBEAT_PONG) ? resolve() : setTimeout(check, 5));
      check();
    });
    await publish("heartbeat", [2]);
    await sock.until((f) => seqs(f).includes(2), "seq 2");
    sock.ws.close(1000);
  });
});

describe("the hub that holds it", () => {
  it("is the topic's first-ranked hub; the socket takes no subscribe frames and is sent no subscribed frames", async () => {
    await publish("pinned", range(1, 3));
    const res = await meshFetch("http://mesh/v1/topics/pinned/ws?after=1", { headers: { upgrade: "websocket" } });
    expect(res.headers.get("x-mesh-hub")).toBe(hubName(rankHubs("pinned", readConfig(env).hubPoolSize)[0]));
    const sock = collect(res);
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    sock.ws.send(subscribeFrameText({ topic: "other" }));
    sock.ws.send(JSON.stringify({ type: "unsubscribe", topic: "pinned" }));
    await sock.until((f) => f.filter((x) => x.type === "error").length === 2, "two error frames");
    await publish("pinned", [4]);
    await sock.until((f) => seqs(f).includes(4), "seq 4");
    expect(sock.frames.map(summary)).toEqual([2, 3, "caught-up", "error", "error", 4]);
    expect(sock.frames.filter((f) => f.type === "error")).toEqual([
      { type: "error", code: "invalid_body", message: expect.stringContaining("ping, ack:<id> and auth:<token>") },
      { type: "error", code: "invalid_body", message: expect.stringContaining("ping, ack:<id> and auth:<token>") },
    ]);
    sock.ws.close(1000);
  });
});

describe("gaps", () => {
  it("sends a gap frame naming the oldest seq when retention trimmed the requested range", async () => {
    await publish("trimmed", range(1, 20));
    await expire("trimmed", 12);
    const info = await (await meshFetch("http://mesh/v1/topics/trimmed")).json();
    expect(info).toMatchObject({ oldest: 13, head: 20 });

    const sock = await connect("trimmed", "?after=5");
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    expect(sock.frames.map(summary)).toEqual(["gap", ...range(13, 20), "caught-up"]);
    expect(sock.frames[0]).toMatchObject({ type: "gap", topic: "trimmed", after: 5, oldest: 13, reason: "retention" });
    sock.ws.close(1000);

    // A cursor at the edge of what is retained needs no gap.
    const edge = await connect("trimmed", "?after=12");
    await edge.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    expect(edge.frames.map(summary)).toEqual([...range(13, 20), "caught-up"]);
    edge.ws.close(1000);
  });

  it("sends a gap frame when retention trims the log in the middle of a replay", async () => {
    await publish("trim-during-replay", range(1, 2000));
    const sock = await connect("trim-during-replay", "?after=0");
    // The first page went out with the upgrade; trim while the other 199 pages are being sent.
    await expire("trim-during-replay", 1900);
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    // Retention trims in chunks, so the replay may meet more than one gap; together with the
    // events they account for every seq exactly once, and the last one ends at the new oldest.
    const gaps = sock.frames.filter((f) => f.type === "gap") as { after: number; oldest: number; reason: string }[];
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.at(-1)).toMatchObject({ oldest: 1901, reason: "retention" });
    const skipped = gaps.flatMap((g) => range(g.after + 1, g.oldest - 1));
    const received = seqs(sock.frames);
    expect(received[0]).toBe(1);
    expect([...received, ...skipped].sort((a, b) => a - b)).toEqual(range(1, 2000));
    sock.ws.close(1000);
  });

  it("sends an epoch gap and starts over when the client's epoch is not the topic's", async () => {
    await publish("epochs", range(1, 5));
    const sock = await connect("epochs", "?after=40&epoch=an-old-epoch");
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    expect(sock.frames.map(summary)).toEqual(["gap", ...range(1, 5), "caught-up"]);
    expect(sock.frames[0]).toMatchObject({ after: 40, oldest: 1, reason: "epoch" });
    const epoch = (sock.frames.at(-1) as { epoch: string }).epoch;
    expect((sock.frames[0] as { epoch: string }).epoch).toBe(epoch);
    sock.ws.close(1000);

    // With the right epoch the same cursor is simply ahead of the head.
    const ahead = await connect("epochs", `?after=40&epoch=${epoch}`);
    expect(await ahead.closed).toMatchObject({ code: CLOSE.cursorAhead });
  });
});

describe("refusals on the socket", () => {
  it("closes with 4400 and an invalid_query error frame for a bad query", async () => {
    for (const query of [
      "?after=abc",
      "?after=-1",
      `?types=${Array.from({ length: 51 }, (_, i) => `t${i}`).join(",")}`,
      "?filter=not-json",
      `?filter=${encodeURIComponent(JSON.stringify([{ exact: { Type: "A" } }]))}`,
    ]) {
      const sock = await connect("bad-query", query);
      expect(await sock.closed).toMatchObject({ code: CLOSE.badRequest });
      expect(sock.frames).toEqual([{ type: "error", code: "invalid_query", message: expect.any(String) }]);
    }
  });

  it("closes with 4404 and an invalid_topic error frame for a bad topic name", async () => {
    const sock = await connect("-starts-with-dash");
    expect(await sock.closed).toMatchObject({ code: CLOSE.invalidTopic });
    expect(sock.frames).toEqual([
      { type: "error", code: "invalid_topic", message: expect.stringContaining("-starts-with-dash") },
    ]);
  });

  it("closes an upgrade to no route (an empty topic) with a terminal 4400 and a not_found frame", async () => {
    const res = await meshFetch("http://mesh/v1/topics//ws", { headers: { upgrade: "websocket" } });
    const sock = collect(res);
    expect(await sock.closed).toMatchObject({ code: CLOSE.badRequest });
    expect(sock.frames).toEqual([{ type: "error", code: "not_found", message: expect.stringContaining("//ws") }]);
  });

  it("closes with 4409 (cursor_ahead) when after is beyond the head, and publishing still works", async () => {
    await publish("ahead", range(1, 3));
    const live = await connect("ahead", "?after=3");
    await live.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    const sock = await connect("ahead", "?after=10");
    expect(await sock.closed).toMatchObject({ code: CLOSE.cursorAhead });
    expect(sock.frames).toEqual([{ type: "error", code: "cursor_ahead", message: expect.stringContaining("10") }]);
    await publish("ahead", [4]);
    await live.until((f) => seqs(f).includes(4), "seq 4");
    live.ws.close(1000);
  });

  it("answers a plain HTTP request with a JSON refusal", async () => {
    const plain = await meshFetch("http://mesh/v1/topics/plain/ws");
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ error: { code: "upgrade_required" } });
    const bad = await meshFetch("http://mesh/v1/topics/plain/ws?after=x");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_query", param: "after" } });
  });
});
