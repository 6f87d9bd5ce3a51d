import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  compileFilters,
  type EventFilter,
  EventFiltersSchema,
  FILTER_LIMITS,
  type FilterableEvent,
} from "../../protocol/event-filter.ts";

/** Parses a list of filters as the frames and bodies do; a refusal is `path: message`. */
function parseEventFilters(value: unknown): { ok: true; filters: EventFilter[] } | { ok: false; message: string } {
  const result = v.safeParse(EventFiltersSchema, value);
  if (result.success) return { ok: true, filters: result.output };
  const issue = result.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join(".");
  return { ok: false, message: path ? `${path}: ${issue.message}` : issue.message };
}

const event: FilterableEvent = {
  id: "e-1",
  source: "/checkout/eu",
  specversion: "1.0",
  type: "com.example.order.placed",
  subject: "orders/42",
  time: "2026-11-30T10:00:00Z",
  datacontenttype: "application/json",
  seq: 7,
  region: "eu-west",
  priority: 3,
  urgent: true,
  data: { region: "us-east" },
};

const matches = (filters: EventFilter[], e: FilterableEvent = event) => compileFilters(filters)(e);

const refusal = (value: unknown) => {
  const result = parseEventFilters(value);
  return result.ok ? null : result.message;
};

describe("filter dialects", () => {
  it("exact matches the whole value, case sensitive, every attribute named", () => {
    expect(matches([{ exact: { type: "com.example.order.placed" } }])).toBe(true);
    expect(matches([{ exact: { type: "com.example.order.Placed" } }])).toBe(false);
    expect(matches([{ exact: { type: "com.example.order.placed", subject: "orders/42" } }])).toBe(true);
    expect(matches([{ exact: { type: "com.example.order.placed", subject: "orders/43" } }])).toBe(false);
  });

  it("prefix and suffix compare the start and the end", () => {
    expect(matches([{ prefix: { type: "com.example.", source: "/checkout" } }])).toBe(true);
    expect(matches([{ prefix: { type: "com.other." } }])).toBe(false);
    expect(matches([{ suffix: { type: ".placed", subject: "/42" } }])).toBe(true);
    expect(matches([{ suffix: { type: ".cancelled" } }])).toBe(false);
  });

  it("a missing attribute matches no exact, prefix or suffix, so not of one matches", () => {
    const bare = { ...event, subject: undefined };
    delete bare.subject;
    expect(matches([{ exact: { subject: "orders/42" } }], bare)).toBe(false);
    expect(matches([{ prefix: { dataschema: "h" } }])).toBe(false);
    expect(matches([{ suffix: { subject: "2" } }], bare)).toBe(false);
    expect(matches([{ not: { exact: { subject: "orders/42" } } }], bare)).toBe(true);
  });

  it("extension attributes compare as their text, numbers and booleans included; data is not looked into", () => {
    expect(matches([{ exact: { region: "eu-west" } }])).toBe(true);
    expect(matches([{ exact: { priority: "3", urgent: "true", seq: "7" } }])).toBe(true);
    expect(matches([{ prefix: { region: "us" } }])).toBe(false);
    expect(matches([{ exact: { constructor: "x" } }])).toBe(false);
  });

  it("all, any and not nest; the list is ANDed and an empty list matches everything", () => {
    const placedInEu: EventFilter = {
      all: [
        { suffix: { type: ".placed" } },
        { any: [{ exact: { region: "eu-west" } }, { exact: { region: "eu-north" } }] },
      ],
    };
    expect(matches([placedInEu])).toBe(true);
    expect(matches([{ not: placedInEu }])).toBe(false);
    expect(matches([{ any: [{ exact: { type: "x" } }, { not: { exact: { type: "x" } } }] }])).toBe(true);
    expect(matches([{ all: [{ exact: { type: "x" } }] }])).toBe(false);
    expect(matches([placedInEu, { exact: { subject: "orders/41" } }])).toBe(false);
    expect(matches([])).toBe(true);
  });
});

describe("filter schema", () => {
  it("accepts every dialect and returns the filters as given", () => {
    const filters = [
      { exact: { type: "a" } },
      { prefix: { source: "/x" } },
      { suffix: { subject: ".png" } },
      { all: [{ any: [{ not: { exact: { region: "eu" } } }] }] },
    ];
    expect(parseEventFilters(filters)).toEqual({ ok: true, filters });
  });

  it.each([
    ["not an array", { exact: { type: "a" } }, "filters are an array of filter objects"],
    ["an unknown dialect", [{ sql: "type = 'a'" }], "0.sql: a filter is an object with one dialect"],
    ["two dialects in one", [{ exact: { type: "a" }, prefix: { type: "b" } }], "0: a filter holds exactly one dialect"],
    ["no dialect", [{}], "0: a filter holds exactly one dialect"],
    ["an empty value", [{ exact: { type: "" } }], "0.exact.type: an attribute value in a filter must not be empty"],
    ["a number as value", [{ prefix: { type: 1 } }], "0.prefix.type: an attribute value in a filter is a string"],
    [
      "an upper-case name",
      [{ exact: { Type: "a" } }],
      "0.exact.Type: an attribute name is lower-case letters and digits",
    ],
    ["data as attribute", [{ exact: { data: "a" } }], "0.exact.data: data is the payload"],
    ["no attribute", [{ suffix: {} }], "0.suffix: exact, prefix and suffix name at least one attribute"],
    ["an empty any", [{ any: [] }], "0.any: any holds at least one filter"],
    ["all not an array", [{ all: { exact: { type: "a" } } }], "0.all: all takes an array of filters"],
    [
      "a malformed nested filter",
      [{ not: { all: [{ exact: { type: "a" } }, { exact: { type: 2 } }] } }],
      "0.not.all.1.exact.type",
    ],
    ["a value too long", [{ exact: { type: "x".repeat(201) } }], "0.exact.type: a value is at most 200 characters"],
  ])("refuses %s, naming the problem and where", (_name, value, message) => {
    expect(refusal(value)).toContain(message);
  });

  it("refuses a filter nested too deep, however deep, before walking it", () => {
    const nest = (levels: number): EventFilter => {
      let filter: EventFilter = { exact: { type: "a" } };
      for (let i = 1; i < levels; i++) filter = { not: filter };
      return filter;
    };
    expect(parseEventFilters([nest(FILTER_LIMITS.maxDepth)]).ok).toBe(true);
    expect(refusal([nest(FILTER_LIMITS.maxDepth + 1)])).toBe("filters nest at most 8 levels (all, any, not)");
    expect(refusal([nest(100_000)])).toBe("filters nest at most 8 levels (all, any, not)");
  });

  it("refuses more expressions than the limit, counted across the list", () => {
    const leaf = { exact: { type: "a" } };
    const wide = Array.from({ length: FILTER_LIMITS.maxExpressions }, () => leaf);
    expect(parseEventFilters(wide).ok).toBe(true);
    expect(refusal([...wide, leaf])).toBe("filters hold at most 64 expressions in all");
    expect(refusal([{ any: Array.from({ length: 1_000_000 }, () => leaf) }])).toBe(
      "filters hold at most 64 expressions in all",
    );
  });
});
