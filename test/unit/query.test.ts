import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { HistoryQuerySchema, SubscribeQuerySchema } from "../../protocol/query.ts";

const parse = (query: Record<string, string>) => v.safeParse(HistoryQuerySchema, query);
const firstIssue = (query: Record<string, string>) => {
  const result = parse(query);
  return result.success ? null : result.issues[0].message;
};

describe("history query", () => {
  it("leaves after (0 at the route), limit, type and the rewind unset", () => {
    const result = parse({});
    expect(result).toMatchObject({ success: true, output: {} });
    expect(result.success && [result.output.after, result.output.limit, result.output.last]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("reads last, since and until", () => {
    expect(parse({ last: "15", until: "2026-05-01T10:00:00Z" })).toMatchObject({
      success: true,
      output: { last: 15, until: "2026-05-01T10:00:00Z" },
    });
    // 10:00:00.5+02:00 is 08:00:00.5Z: an offset counts when since and until are compared.
    expect(parse({ since: "2026-05-01T10:00:00.5+02:00", until: "2026-05-01T09:00:00Z" }).success).toBe(true);
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
    [{ last: "0" }, "last must be at least 1"],
    [{ last: "1001" }, "last is at most 1000"],
    [{ last: "-2" }, "last must be a non-negative integer"],
    [{ since: "2026-05-01 10:00:00Z" }, "since must be an RFC 3339 timestamp"],
    [{ until: "tomorrow" }, "until must be an RFC 3339 timestamp"],
    [
      { last: "3", after: "2" },
      "last starts a new subscription and after resumes one: give after (with its epoch) or last, not both",
    ],
    [
      { since: "2026-05-01T10:00:00Z", after: "2" },
      "since starts a new subscription and after resumes one: give after (with its epoch) or since, not both",
    ],
    [{ since: "2026-05-01T10:00:00Z", last: "2" }, "give last or since, not both"],
    [{ since: "2026-05-01T10:00:00Z", until: "2026-05-01T09:59:59.999Z" }, "until is before since"],
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

  it("reads a rewind: last 0 (from now) to 1000, or since", () => {
    expect(v.safeParse(SubscribeQuerySchema, { last: "0" })).toMatchObject({ success: true, output: { last: 0 } });
    expect(v.safeParse(SubscribeQuerySchema, { since: "2026-05-01T10:00:00Z", types: "A" })).toMatchObject({
      success: true,
      output: { since: "2026-05-01T10:00:00Z", types: ["A"] },
    });
  });

  it.each([
    [{ last: "2", after: "0" }, ["last"]],
    [{ last: "2", epoch: "e1" }, ["epoch"]],
    [{ last: "2", since: "2026-05-01T10:00:00Z" }, ["since"]],
    [{ last: "1001" }, ["last"]],
  ])("refuses the start %j, naming the parameter", (query, path) => {
    const result = v.safeParse(SubscribeQuerySchema, query);
    expect(result.success).toBe(false);
    expect(result.issues?.[0].path?.map((item) => item.key)).toEqual(path);
  });
});
