import { describe, expect, it } from "vitest";
import { ACK_EVERY_CHARS, ackFrame, parseAck } from "../../protocol/frames.ts";
import { readConfig } from "../../runtime/config.ts";

describe("flow-control acks", () => {
  it("round-trip and refuse anything else", () => {
    expect(parseAck(ackFrame(0))).toBe(0);
    expect(parseAck(ackFrame(123_456_789))).toBe(123_456_789);
    for (const text of ["ack:", "ack:-1", "ack:1.5", "ack:1e3", "ack: 1", "ack:1234567890123456", "ping", "ACK:1"]) {
      expect(parseAck(text)).toBeNull();
    }
  });

  it("the unacknowledged limit must leave room for two ack intervals", () => {
    expect(readConfig({}).liveMaxUnackedChars).toBeGreaterThanOrEqual(2 * ACK_EVERY_CHARS);
    expect(readConfig({ LIVE_MAX_UNACKED_CHARS: String(2 * ACK_EVERY_CHARS) }).liveMaxUnackedChars).toBe(
      2 * ACK_EVERY_CHARS,
    );
    expect(() => readConfig({ LIVE_MAX_UNACKED_CHARS: String(ACK_EVERY_CHARS) })).toThrow(/LIVE_MAX_UNACKED_CHARS/);
    expect(readConfig({ LIVE_STALL_SECONDS: "5" }).liveStallSeconds).toBe(5);
  });
});
