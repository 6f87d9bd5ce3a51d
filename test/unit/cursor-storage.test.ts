import { describe, expect, it } from "vitest";
import {
  cursorKey,
  memoryStorage,
  parseStoredCursor,
  serializeCursor,
  webStorage,
} from "../../client/cursor-storage.ts";

describe("cursor storage", () => {
  it("round-trips a cursor", () => {
    const text = serializeCursor({ lastSeq: 42, epoch: "abc" });
    expect(parseStoredCursor(text)).toEqual({ lastSeq: 42, epoch: "abc" });
    expect(parseStoredCursor(serializeCursor({ lastSeq: 0 }))).toEqual({ lastSeq: 0 });
  });

  it("treats anything unreadable as no cursor", () => {
    for (const text of [
      null,
      undefined,
      "",
      "not json",
      "{}",
      '{"lastSeq":-1}',
      '{"lastSeq":1.5}',
      '{"lastSeq":"3"}',
    ]) {
      expect(parseStoredCursor(text)).toBeNull();
    }
  });

  it("keys by topic and by the sorted filter", () => {
    expect(cursorKey("orders")).toBe("event-mesh:orders");
    expect(cursorKey("orders", [])).toBe("event-mesh:orders");
    expect(cursorKey("orders", ["B", "A"])).toBe(cursorKey("orders", ["A", "B"]));
    expect(cursorKey("orders", ["A"])).not.toBe(cursorKey("orders"));
    const eu = [{ exact: { region: "eu" } }];
    expect(cursorKey("orders", undefined, eu)).toBe('event-mesh:orders:filter=[{"exact":{"region":"eu"}}]');
    expect(cursorKey("orders", ["A"], eu)).not.toBe(cursorKey("orders", ["A"]));
    expect(cursorKey("orders", undefined, [])).toBe("event-mesh:orders");
  });

  it("adapts a Web Storage and survives a full one", () => {
    const items = new Map<string, string>();
    const storage = webStorage({
      getItem: (key) => items.get(key) ?? null,
      setItem: (key, value) => {
        if (value.length > 50) throw new Error("QuotaExceededError");
        items.set(key, value);
      },
    });
    storage.set("k", "v");
    expect(storage.get("k")).toBe("v");
    expect(storage.get("missing")).toBeNull();
    expect(() => storage.set("k", "x".repeat(100))).not.toThrow();
    expect(storage.get("k")).toBe("v");
  });

  it("keeps entries in memory", () => {
    const storage = memoryStorage();
    storage.set("a", "1");
    expect(storage.get("a")).toBe("1");
    expect([...storage.entries]).toEqual([["a", "1"]]);
  });
});
