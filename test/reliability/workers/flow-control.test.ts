import { describe, expect, it } from "vitest";
import { ackFrame } from "../../../protocol/frames.ts";
import { DEFAULT_LIMITS } from "../../../protocol/limits.ts";
import { checkDeliveries, seqsUpTo } from "../../support/invariants.ts";
import { meshFetch } from "../../workers/support/mesh-fetch.ts";
import { collect, type Socket } from "../../workers/support/socket.ts";

// Flow control on live sockets (scenario 6, the mechanism): a socket that does not acknowledge is
// sent at most LIVE_MAX_UNACKED_CHARS; acks restart it from the log with no gap and no repeat.
const LIMIT = DEFAULT_LIMITS.liveMaxUnackedChars;
const payload = "y".repeat(2_000);

async function publish(topic: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => ({
      id: crypto.randomUUID(),
      source: "flow-test",
      type: "Tick",
      specversion: "1.0",
      data: { payload },
    }));
    const res = await meshFetch(`/v1/topics/${topic}/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(batch),
    });
    expect(res.status).toBe(201);
  }
}

async function connect(topic: string): Promise<Socket> {
  return collect(await meshFetch(`/v1/topics/${topic}/ws?after=0`, { headers: { upgrade: "websocket" } }));
}

const chars = (sock: Socket) => sock.texts.reduce((n, text) => n + text.length, 0);
const seqs = (sock: Socket) => sock.frames.flatMap((f) => (f.type === "event" ? [f.event.seq] : []));
const caughtUp = (sock: Socket) => sock.frames.some((f) => f.type === "caught-up");
const marks = (sock: Socket) => sock.frames.flatMap((f) => (f.type === "mark" ? [f.id] : []));
/** Acknowledges everything read so far: the last mark received. */
const ackAll = (sock: Socket) => sock.ws.send(ackFrame(marks(sock).at(-1) ?? ""));

/** Waits until the socket got `minChars`, then a little more, so frames still on their way arrive. */
async function settle(sock: Socket, minChars: number): Promise<void> {
  await sock.until(() => chars(sock) >= minChars, `${minChars} characters`);
  let before = -1;
  while (before !== chars(sock)) {
    before = chars(sock);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("flow control of live sockets", () => {
  it("stops a replay at the limit of unacknowledged characters and continues it on acks", async () => {
    const topic = "flow-replay";
    await publish(topic, 1_500);
    const sock = await connect(topic);
    await settle(sock, LIMIT);
    // Stopped near the limit: well short of the 1,500 stored events, no caught-up yet.
    expect(chars(sock)).toBeLessThan(LIMIT + payload.length + 300);
    expect(caughtUp(sock)).toBe(false);
    const stoppedAt = seqs(sock).length;
    expect(stoppedAt).toBeLessThan(1_500);

    // Acks move it on, page by page, until it is live.
    while (!caughtUp(sock)) {
      ackAll(sock);
      await settle(sock, chars(sock) + 1);
    }
    expect(checkDeliveries("replayed", seqs(sock), { expected: seqsUpTo(1_500) }).violations).toEqual([]);
    sock.ws.close(1000);
  });

  it("switches a live socket that stops acknowledging back to the log, then catches it up exactly", async () => {
    const topic = "flow-live";
    const sock = await connect(topic);
    await sock.until(() => caughtUp(sock), "caught-up");
    await publish(topic, 1_500);
    await settle(sock, LIMIT);
    const stoppedAt = seqs(sock).length;
    expect(stoppedAt).toBeLessThan(1_500);
    expect(chars(sock)).toBeLessThan(LIMIT + 100 * (payload.length + 300));

    while (seqs(sock).length < 1_500 || sock.frames.filter((f) => f.type === "caught-up").length < 2) {
      ackAll(sock);
      await settle(sock, chars(sock) + 1);
    }
    expect(checkDeliveries("live", seqs(sock), { expected: seqsUpTo(1_500) }).violations).toEqual([]);
    // Live again: the next append arrives without any further ack needed.
    ackAll(sock);
    await publish(topic, 1);
    await sock.until((f) => f.some((x) => x.type === "event" && x.event.seq === 1_501), "seq 1,501");
    sock.ws.close(1000);
  });

  it("keeps sending to a client that acknowledges as it reads", async () => {
    const topic = "flow-acking";
    const sock = await connect(topic);
    let acked = 0;
    sock.ws.addEventListener("message", () => {
      const read = marks(sock);
      if (read.length > acked) {
        acked = read.length;
        ackAll(sock);
      }
    });
    await sock.until(() => caughtUp(sock), "caught-up");
    await publish(topic, 3_000);
    await sock.until(() => seqs(sock).length === 3_000, "3,000 events");
    expect(checkDeliveries("acking", seqs(sock), { expected: seqsUpTo(3_000) }).violations).toEqual([]);
    sock.ws.close(1000);
  });

  it("holds a client that acknowledges what it never read to the same bound", async () => {
    const topic = "flow-liar";
    // A mark id from another connection: real, but not this socket's.
    const other = await connect(topic);
    await publish(topic, 1_500);
    await settle(other, LIMIT);
    const foreign = marks(other).at(-1) as string;
    other.ws.close(1000);

    const sock = await connect(topic);
    await settle(sock, LIMIT);
    expect(chars(sock)).toBeLessThan(LIMIT + payload.length + 300);
    const stoppedAt = seqs(sock).length;
    // Forged acks: guessed ids, the other socket's id, the old counting form. None moves it on.
    for (const text of ["ack:0123456789abcdef", ackFrame(foreign), "ack:999999999999999"]) sock.ws.send(text);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seqs(sock).length).toBe(stoppedAt);
    // The old form is not an ack at all: the socket says so.
    expect(sock.frames.filter((f) => f.type === "error").map((f) => f.type === "error" && f.code)).toEqual([
      "invalid_body",
    ]);

    // The mark it really read does.
    while (!caughtUp(sock)) {
      ackAll(sock);
      await settle(sock, chars(sock) + 1);
    }
    expect(checkDeliveries("liar", seqs(sock), { expected: seqsUpTo(1_500) }).violations).toEqual([]);
    sock.ws.close(1000);
  });
});
