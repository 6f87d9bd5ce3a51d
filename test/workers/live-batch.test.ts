import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EVENTS_FRAME_CHARS, type ServerFrame } from "../../protocol/frames.ts";
import { acceptedEvent } from "../../protocol/mesh-event.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { collect, type Socket } from "./support/socket.ts";

// Batched frames (`batch=true`): several events per frame in replay and for appends written
// together. REPLAY_PAGE_SIZE is 10 in vitest.workers.config.ts, so a replay page holds 10 events.

async function connect(topic: string, query: string): Promise<Socket> {
  return collect(await meshFetch(`http://mesh/v1/topics/${topic}/ws${query}`, { headers: { upgrade: "websocket" } }));
}

/** Every event's seq, from event and events frames alike. */
const seqs = (frames: ServerFrame[]) =>
  frames.flatMap((f) => (f.type === "event" ? [f.event.seq] : f.type === "events" ? f.events.map((e) => e.seq) : []));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const caughtUp = (frames: ServerFrame[]) => frames.some((f) => f.type === "caught-up");

async function publish(topic: string, ids: number[], type = "Thing", data?: unknown): Promise<void> {
  const batch = ids.map((n) => ({ id: `e${n}`, source: "batch-test", type, specversion: "1.0", data }));
  const res = await meshFetch(`http://mesh/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(batch),
  });
  expect(res.status).toBe(201);
}

describe("batched frames", () => {
  it("replays a page per frame and sends appends written together in one frame; a socket that did not ask gets one frame per event", async () => {
    const topic = "batched";
    await publish(topic, range(1, 45));
    const batched = await connect(topic, "?batch=true");
    const plain = await connect(topic, "");
    for (const sock of [batched, plain]) await sock.until(caughtUp, "caught-up");
    await publish(topic, range(46, 50));
    await publish(topic, [51]);
    for (const sock of [batched, plain]) await sock.until((f) => seqs(f).at(-1) === 51, "seq 51");

    expect(seqs(batched.frames)).toEqual(range(1, 51));
    expect(batched.frames.map((f) => (f.type === "events" ? f.events.length : f.type))).toEqual([
      10,
      10,
      10,
      10,
      5,
      "caught-up",
      5,
      "event",
    ]);
    expect(seqs(plain.frames)).toEqual(range(1, 51));
    expect(plain.frames.every((f) => f.type === "event" || f.type === "caught-up")).toBe(true);
    batched.ws.close(1000);
    plain.ws.close(1000);
  });

  it("keeps frames within the size bound: larger events fill fewer per frame", async () => {
    const topic = "batched-large";
    const data = { text: "z".repeat(20_000) };
    await publish(topic, range(1, 30), "Thing", data);
    const sock = await connect(topic, "?batch=true");
    await sock.until(caughtUp, "caught-up");
    expect(seqs(sock.frames)).toEqual(range(1, 30));
    sock.texts.forEach((text, i) => {
      const frame = sock.frames[i];
      if (frame.type === "events") expect(text.length).toBeLessThanOrEqual(EVENTS_FRAME_CHARS + 200);
    });
    expect(sock.frames.filter((f) => f.type === "events").length).toBeGreaterThan(3);
    sock.ws.close(1000);
  });

  it("joins replay and live at the seam exactly with batched frames", async () => {
    await publish("batched-seam", range(1, 100));
    const all = (from: number, to: number) =>
      range(from, to).map((n) => ({
        id: `e${n}`,
        source: "batch-test",
        type: "Thing",
        specversion: "1.0",
        time: new Date().toISOString(),
      }));
    const topic = env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName("batched-seam"));
    const sock = await connect("batched-seam", "?after=50&batch=true");
    // Lands while the socket is still replaying from the topic's log, a page (10 events) per call.
    await Promise.all([
      topic.publish("batched-seam", all(101, 110).map(acceptedEvent)),
      topic.publish("batched-seam", all(111, 125).map(acceptedEvent)),
    ]);
    await sock.until(caughtUp, "caught-up");
    await Promise.all([
      topic.publish("batched-seam", all(126, 140).map(acceptedEvent)),
      topic.publish("batched-seam", all(141, 150).map(acceptedEvent)),
    ]);
    await sock.until((f) => seqs(f).at(-1) === 150, "seq 150");
    sock.ws.close(1000);
    const frames = sock.frames;
    expect(seqs(frames)).toEqual(range(51, 150));
    expect(frames.some((f) => f.type === "events")).toBe(true);
  });

  it("filters by type inside batched frames, in replay and live", async () => {
    const topic = "batched-filter";
    await publish(topic, [1, 2, 3], "A");
    await publish(topic, [4, 5], "B");
    const sock = await connect(topic, "?batch=true&types=A");
    await sock.until(caughtUp, "caught-up");
    await publish(topic, [6, 7], "A");
    await publish(topic, [8], "B");
    await publish(topic, [9], "A");
    await sock.until((f) => seqs(f).includes(9), "seq 9");
    expect(seqs(sock.frames)).toEqual([1, 2, 3, 6, 7, 9]);
    sock.ws.close(1000);
  });

  it("refuses a batch value other than true or false", async () => {
    const sock = await connect("batched-bad", "?batch=yes");
    const { code } = await sock.closed;
    expect(code).toBe(4400);
    expect(sock.frames[0]).toMatchObject({ type: "error", code: "invalid_query" });
  });
});
