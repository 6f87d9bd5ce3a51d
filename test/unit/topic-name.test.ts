import { describe, expect, it } from "vitest";
import { isValidTopicName } from "../../protocol/topic-name.ts";

describe("topic name rule", () => {
  it.each(["users", "a", "notifications.user-42", "orders:eu_west", "A1", "x".repeat(128)])("accepts %s", (name) => {
    expect(isValidTopicName(name)).toBe(true);
  });
  it.each(["", "-lead", ".dot", "has space", "slash/inside", "ünïcode", "x".repeat(129), "a?b"])(
    "refuses %j",
    (name) => {
      expect(isValidTopicName(name)).toBe(false);
    },
  );
});
