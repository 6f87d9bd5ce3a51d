import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { HistoryQuerySchema, SubscribeQuerySchema } from "../../protocol/query.ts";

const parse = (query: Record<string, string>) => v.safeParse(HistoryQuerySchema, query);
const firstIssue = (query: Record<string, string>) => {
  const result = parse(query);
  return result.success ? null : result.issues[0].message;
};

describe("history query", () => {
  it("defaults after to 0 and leaves limit and type unset", () => {
    expect(parse({})).toMatchObject({ success: true, output: { after: 0 } });
    const result = parse({});
    expect(result.success && result.output.limit).toBeUndefined();
  });

  it("reads after, limit and a comma-separated type filter", () => {
    expect(parse({ after: "2500", limit: "10", type: "A, B,,C" })).toMatchObject({
      success: true,
      output: { after: 2500, limit: 10, type: ["A", "B", "C"] },
    });
  });

  it.each([
    [{ after: "-1" }, "after must be a non-negative integer"],
    [{ after: "1.5" }, "after must be a non-negative integer"],
    [{ after: "abc" }, "after must be a non-negative integer"],
    [{ after: "1".repeat(16) }, "after must be a non-negative integer"],
    [{ limit: "0" }, "limit must be at least 1"],
    [{ limit: "ten" }, "limit must be a positive integer"],
    [{ type: Array.from({ length: 51 }, (_, i) => `T${i}`).join(",") }, "types lists at most 50 event types"],
    [{ type: "x".repeat(201) }, "an event type is at most 200 characters"],
  ])("refuses %j", (query, message) => {
    expect(firstIssue(query)).toBe(message);
  });
});

describe("subscribe query", () => {
  it("reads after, types and epoch", () => {
    expect(v.safeParse(SubscribeQuerySchema, { after: "7", types: "A,B", epoch: "e1" })).toMatchObject({
      success: true,
      output: { after: 7, types: ["A", "B"], epoch: "e1" },
    });
  });

  it("refuses a bad after", () => {
    expect(v.safeParse(SubscribeQuerySchema, { after: "x" }).success).toBe(false);
  });
});
