import { describe, expect, it } from "vitest";
import { SocketFlow } from "../../durable-objects/socket-flow.ts";
import { ackFrame, markFrameText, markIdOf, parseAck, parseServerFrame } from "../../protocol/frames.ts";
import { MIN_UNACKED_CHARS, readConfig } from "../../runtime/config.ts";

describe("flow-control acks", () => {
  it("round-trip and refuse anything else", () => {
    expect(parseAck(ackFrame("0123456789abcdef"))).toBe("0123456789abcdef");
    for (const text of [
      "ack:",
      "ack:12",
      "ack:0123456789ABCDEF",
      "ack:0123456789abcdef0",
      "ack: 0123456789abcdef",
      "ping",
    ]) {
      expect(parseAck(text)).toBeNull();
    }
    expect(parseServerFrame(markFrameText("0123456789abcdef"))).toEqual({ type: "mark", id: "0123456789abcdef" });
    expect(markIdOf(markFrameText("0123456789abcdef"))).toBe("0123456789abcdef");
    expect(markIdOf('{"type":"event","topic":"t","event":{}}')).toBeNull();
  });

  it("the unacknowledged limit must leave room for a few of the largest events", () => {
    expect(readConfig({}).liveMaxUnackedChars).toBeGreaterThanOrEqual(MIN_UNACKED_CHARS);
    expect(readConfig({ LIVE_MAX_UNACKED_CHARS: String(MIN_UNACKED_CHARS) }).liveMaxUnackedChars).toBe(
      MIN_UNACKED_CHARS,
    );
    expect(() => readConfig({ LIVE_MAX_UNACKED_CHARS: String(MIN_UNACKED_CHARS - 1) })).toThrow(
      /LIVE_MAX_UNACKED_CHARS/,
    );
    expect(readConfig({ LIVE_STALL_SECONDS: "5" }).liveStallSeconds).toBe(5);
  });
});

describe("a socket's flow", () => {
  const ids = () => {
    let n = 0;
    return () => (n++).toString(16).padStart(16, "0");
  };

  it("puts a mark after every markEvery characters and counts the mark itself", () => {
    const flow = new SocketFlow(100, ids());
    expect(flow.counted(60)).toBeNull();
    const mark = flow.counted(60);
    expect(mark).toBe(markFrameText("0000000000000000"));
    expect(flow.sent).toBe(120 + (mark as string).length);
    expect(flow.counted(50)).toBeNull();
    expect(flow.unacked).toBe(flow.sent);
  });

  it("an ack of a mark counts everything up to it as read, and drops older marks", () => {
    const flow = new SocketFlow(100, ids());
    flow.counted(100);
    const firstAt = flow.sent;
    flow.counted(100);
    flow.counted(30);
    expect(flow.ack("0000000000000000")).toBe(true);
    expect(flow.acked).toBe(firstAt);
    expect(flow.ack("0000000000000001")).toBe(true);
    expect(flow.unacked).toBe(30);
    // Acknowledged once; an earlier mark after a later one changes nothing.
    expect(flow.ack("0000000000000001")).toBe(false);
    expect(flow.ack("0000000000000000")).toBe(false);
    expect(flow.unacked).toBe(30);
  });

  it("ignores ids it never sent, however many", () => {
    const flow = new SocketFlow(100, ids());
    flow.counted(250);
    for (let i = 0; i < 1_000; i++) expect(flow.ack(i.toString(16).padStart(16, "f"))).toBe(false);
    expect(flow.acked).toBe(0);
  });

  it("marks everything sent when sending stops, once", () => {
    const flow = new SocketFlow(1_000, ids());
    expect(flow.markAll()).toBeNull();
    flow.counted(300);
    const mark = flow.markAll();
    expect(mark).not.toBeNull();
    expect(flow.markAll()).toBeNull();
    expect(flow.ack("0000000000000000")).toBe(true);
    expect(flow.unacked).toBe(0);
    expect(flow.markAll()).toBeNull();
  });

  it("random ids are 16 hex characters, and differ", () => {
    const flow = new SocketFlow(1);
    const a = JSON.parse(flow.counted(1) as string).id;
    const b = JSON.parse(flow.counted(1) as string).id;
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
  });
});
