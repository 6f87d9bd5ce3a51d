import { beforeAll, describe, expect, it } from "vitest";
import { event, freshTopic, history, info, publish, request } from "./topic-client.ts";

const TYPES = ["Alpha", "Beta", "Gamma"];
const topic = freshTopic("history");

beforeAll(async () => {
  // 2,500 events in 25 batches of 100; event n has type TYPES[(n - 1) % 3].
  for (let b = 0; b < 25; b++) {
    const batch = Array.from({ length: 100 }, (_, i) => {
      const n = b * 100 + i + 1;
      return event(`h${n}`, { type: TYPES[(n - 1) % 3], data: { n } });
    });
    await publish(topic, batch);
  }
});

describe("history paging across 2,500 events", () => {
  it("serves 100 events by default, says where the page ends and that more follow", async () => {
    const page = await history(topic);
    expect(page).toMatchObject({ topic, head: 2500, next: 100, more: true });
    expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(page.events[0]).toMatchObject({ id: "h1", type: "Alpha", data: { n: 1 }, seq: 1 });
  });

  it("pages through every event exactly once, in seq order, with the largest page", async () => {
    const seqs: number[] = [];
    const pages: { size: number; next: number; more: boolean }[] = [];
    let after = 0;
    for (;;) {
      const page = await history(topic, `after=${after}&limit=1000`);
      seqs.push(...page.events.map((e) => Number(e.seq)));
      pages.push({ size: page.events.length, next: page.next, more: page.more });
      if (!page.more) break;
      after = page.next;
    }
    expect(pages).toEqual([
      { size: 1000, next: 1000, more: true },
      { size: 1000, next: 2000, more: true },
      { size: 500, next: 2500, more: false },
    ]);
    expect(seqs).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it("pages with an odd limit without gaps or overlaps", async () => {
    const seen: number[] = [];
    let after = 2000;
    let more = true;
    while (more) {
      const page = await history(topic, `after=${after}&limit=137`);
      seen.push(...page.events.map((e) => Number(e.seq)));
      expect(page.events.length).toBeLessThanOrEqual(137);
      ({ next: after, more } = page);
    }
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => 2001 + i));
  });

  it("the last exact page says no more follow, and after=head is an empty page", async () => {
    expect(await history(topic, "after=2400&limit=100")).toMatchObject({ next: 2500, more: false });
    const atHead = await history(topic, "after=2500");
    expect(atHead).toMatchObject({ events: [], next: 2500, more: false, head: 2500 });
  });

  it("filters by type while paging; next skips to the head once no match is left", async () => {
    const seqs: number[] = [];
    let after = 0;
    for (;;) {
      const page = await history(topic, `after=${after}&limit=300&type=Beta`);
      for (const e of page.events) expect(e.type).toBe("Beta");
      seqs.push(...page.events.map((e) => Number(e.seq)));
      if (!page.more) {
        expect(page.next).toBe(2500);
        break;
      }
      after = page.next;
    }
    const expected = Array.from({ length: 2500 }, (_, i) => i + 1).filter((n) => (n - 1) % 3 === 1);
    expect(seqs).toEqual(expected);
  });

  it("filters by several types", async () => {
    const page = await history(topic, "after=0&limit=6&type=Alpha,Gamma");
    expect(page.events.map((e) => [e.seq, e.type])).toEqual([
      [1, "Alpha"],
      [3, "Gamma"],
      [4, "Alpha"],
      [6, "Gamma"],
      [7, "Alpha"],
      [9, "Gamma"],
    ]);
    expect(page).toMatchObject({ next: 9, more: true });
  });

  it("a filtered page holding the last matches says no more follow, though other types do", async () => {
    const page = await history(topic, "after=2400&limit=33&type=Beta");
    expect(page.events.map((e) => Number(e.seq))).toEqual(Array.from({ length: 33 }, (_, i) => 2402 + 3 * i));
    expect(page).toMatchObject({ next: 2500, more: false });
  });

  it("a filter that matches nothing is an empty last page at the head", async () => {
    expect(await history(topic, "type=Nothing")).toMatchObject({ events: [], next: 2500, more: false });
  });

  it("refuses a limit over 1,000, naming the limit", async () => {
    const res = await request(`/v1/topics/${topic}/events?limit=1001`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: "invalid_query", message: "limit is at most 1000", param: "limit", limit: 1000 },
    });
  });

  it.each([
    ["after=-1", "after must be a non-negative integer"],
    ["after=abc", "after must be a non-negative integer"],
    ["limit=0", "limit must be at least 1"],
  ])("refuses %s with invalid_query", async (query, message) => {
    const res = await request(`/v1/topics/${topic}/events?${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_query", message } });
  });

  it("refuses a cursor beyond the head with 409 cursor_ahead", async () => {
    const res = await request(`/v1/topics/${topic}/events?after=2501`);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: {
        code: "cursor_ahead",
        message: "after=2501 is beyond the head of the topic (2500)",
        head: 2500,
        oldest: 1,
      },
    });
  });
});

describe("history pages of large events", () => {
  // 48 events of about 60 KB: 2.9 MB, more than SQLite's 2 MiB limit on one joined string.
  const large = freshTopic("history-large");
  const payload = (n: number) => `${n}:`.padEnd(30_000, "é");

  beforeAll(async () => {
    for (let b = 0; b < 8; b++) {
      await publish(
        large,
        Array.from({ length: 6 }, (_, i) => {
          const n = b * 6 + i + 1;
          return event(`big${n}`, { type: TYPES[(n - 1) % 3], data: { p: payload(n) } });
        }),
      );
    }
  });

  it("serves a page past SQLite's string limit whole, in order, byte for byte", async () => {
    const page = await history(large, "after=0&limit=1000");
    expect(page).toMatchObject({ next: 48, more: false, head: 48 });
    expect(page.events.map((e) => Number(e.seq))).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expect(page.events.map((e) => e.data)).toEqual(Array.from({ length: 48 }, (_, i) => ({ p: payload(i + 1) })));
  });

  it("pages it by limit and by type with the same cursors as small events", async () => {
    const first = await history(large, "after=0&limit=40");
    expect(first).toMatchObject({ next: 40, more: true });
    expect(first.events.map((e) => Number(e.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const rest = await history(large, "after=40&limit=40");
    expect(rest.events.map((e) => Number(e.seq))).toEqual(Array.from({ length: 8 }, (_, i) => 41 + i));
    expect(rest).toMatchObject({ next: 48, more: false });
    const betas = await history(large, "after=0&limit=15&type=Beta");
    expect(betas.events.map((e) => Number(e.seq))).toEqual(Array.from({ length: 15 }, (_, i) => 2 + 3 * i));
    expect(betas).toMatchObject({ next: 44, more: true });
  });
});

describe("topic info", () => {
  it("reports head, oldest, epoch, event count, dedup window and retention", async () => {
    const page = await history(topic, "after=2499");
    expect(await info(topic)).toEqual({
      topic,
      epoch: page.epoch,
      head: 2500,
      oldest: 1,
      eventCount: 2500,
      bytes: expect.any(Number),
      dedupWindowSeconds: 86400,
      retention: { maxAgeSeconds: 604800, maxEvents: 1000000, maxBytes: 1073741824, protectSubscriptions: false },
    });
    expect(page.epoch).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("an unused topic is empty: head 0, oldest 1, nothing to page", async () => {
    const empty = freshTopic("empty");
    expect(await info(empty)).toMatchObject({ topic: empty, head: 0, oldest: 1, eventCount: 0 });
    expect(await history(empty)).toMatchObject({ events: [], head: 0, next: 0, more: false });
  });

  it("the epoch is stable across publishes", async () => {
    const t = freshTopic("epoch");
    const before = (await info(t)).epoch;
    await publish(t, event("e1"));
    expect((await info(t)).epoch).toBe(before);
  });

  it("GET /v1/topics lists topics with where each stands", async () => {
    const res = await request("/v1/topics");
    const { topics } = await res.json<{ topics: { topic: string; head: number }[] }>();
    expect(topics).toContainEqual(expect.objectContaining({ topic, head: 2500, eventCount: 2500 }));
  });
});

describe("GET /v1/schemas", () => {
  it("exports the catalog as JSON Schema", async () => {
    const res = await request("/v1/schemas");
    expect(res.status).toBe(200);
    const { types } = await res.json<{ types: Record<string, Record<string, unknown>> }>();
    expect(Object.keys(types)).toEqual(expect.arrayContaining(["MemberJoined", "GreetingSent"]));
    expect(types.MemberJoined).toMatchObject({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: {
        userId: { type: "string", minLength: 1 },
        name: { type: "string", minLength: 1, maxLength: 100 },
        email: { type: "string", format: "email", maxLength: 254 },
      },
      required: ["userId", "name", "email"],
    });
  });
});
