import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { deadLetterStore } from "../../durable-objects/dead-letter-store.ts";
import type { DeadLetterList } from "../../protocol/dead-letter-api.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import { createApp } from "../../worker/app.ts";
import { KEYS } from "../support/credentials.ts";
import { testCatalog } from "../support/test-catalog.ts";
import { welcomeMessage } from "./support/test-consumers.ts";
import { jsonInit, request } from "./topic-client.ts";

/**
 * The dead-letter listings page with a cursor: a walk over subscription dead letters of several
 * topics and a queue consumer's shows each exactly once, in listing order, while dead letters are
 * recorded between its pages.
 */
const RUN = crypto.randomUUID().slice(0, 8);
const [BEHIND, A, B, C] = ["0", "a", "b", "c"].map((t) => `pages-${RUN}-${t}`);
const OUTSIDE = `elsewhere-${RUN}`;
const CONSUMER = `pages-${RUN}`;
const mine = (d: DeadLetter) => d.topic.startsWith(`pages-${RUN}-`);

const subId = (topic: string, subscription: string, seq: number) => `sub:${topic}:${subscription}:${seq}`;

/** A subscription whose every delivery fails once and is dead-lettered (nothing listens on port 9). */
async function failingSubscription(topic: string, name: string): Promise<void> {
  const target = { type: "webhook", url: "http://127.0.0.1:9/hook" };
  const res = await request(
    `/v1/topics/${topic}/subscriptions/${name}`,
    jsonInit("PUT", { target, retry: { maxAttempts: 1, firstDelayMs: 1, maxDelayMs: 1 } }),
  );
  expect(res.status, await res.clone().text()).toBe(201);
}

let published = 0;
/** Publishes `count` events and runs the topic's alarm until each subscription dead-lettered them. */
async function deadLetterEvents(topic: string, count: number, subscriptions: number): Promise<void> {
  const events = Array.from({ length: count }, () => ({
    id: `page-${++published}`,
    source: "/pages",
    type: "Thing",
    specversion: "1.0",
  }));
  expect((await request(`/v1/topics/${topic}/events`, jsonInit("POST", events))).status).toBe(201);
  const stub = env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));
  const head = (await (await request(`/v1/topics/${topic}`)).json<{ head: number }>()).head;
  for (let run = 0; run < 40; run++) {
    const listed = await (
      await request(`/v1/dead-letters?topic=${topic}&kind=subscription&limit=1000`)
    ).json<DeadLetterList>();
    if (listed.deadLetters.filter((d) => d.seq > head - count).length === count * subscriptions) return;
    await runDurableObjectAlarm(stub);
  }
  throw new Error(`${topic}: events not dead-lettered`);
}

/** Puts a queue dead letter straight into the store, as the DLQ consumer would; returns its id. */
async function queueDeadLetter(topic: string): Promise<string> {
  const message = welcomeMessage(topic);
  const dead = await deadLetterStore(env).record({
    consumer: CONSUMER,
    topic,
    seq: message.seq,
    source: message.event.source,
    eventId: message.event.id,
    event: message.event as DeadLetter["event"],
    message: JSON.stringify(message),
    attempts: 4,
    lastError: "Error: broke",
    firstFailureAt: "2026-01-01T00:00:00.000Z",
    lastFailureAt: "2026-01-01T00:00:01.000Z",
  });
  return dead.id;
}

/** Follows `next` from the first page to the last; `between` runs after each page. */
async function walk(
  path: string,
  fetchPage: (path: string) => Response | Promise<Response> = request,
  between: (page: DeadLetterList) => Promise<void> = async () => {},
): Promise<{ ids: string[]; pages: DeadLetterList[] }> {
  const pages: DeadLetterList[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetchPage(cursor === null ? path : `${path}&cursor=${encodeURIComponent(cursor)}`);
    expect(res.status, await res.clone().text()).toBe(200);
    const page = await res.json<DeadLetterList>();
    expect(page.more).toBe(page.next !== null);
    pages.push(page);
    await between(page);
    cursor = page.next;
  } while (cursor !== null && pages.length < 1000);
  expect(cursor).toBeNull();
  return { ids: pages.flatMap((p) => p.deadLetters.filter(mine).map((d) => d.id)), pages };
}

const queued: string[] = [];

beforeAll(async () => {
  await failingSubscription(A, "hook-1");
  await failingSubscription(A, "hook-2");
  await failingSubscription(B, "hook-1");
  await failingSubscription(C, "hook-1");
  await deadLetterEvents(A, 3, 2);
  await deadLetterEvents(B, 3, 1);
  await deadLetterEvents(C, 3, 1);
  for (const topic of [A, B, C, A]) queued.push(await queueDeadLetter(topic));
});

describe("GET /v1/dead-letters with a cursor", () => {
  it("walks every topic's and the queue's dead letters exactly once, in order, with some recorded between pages", async () => {
    const added: string[] = [];
    const { ids, pages } = await walk("/v1/dead-letters?limit=4", request, async (page) => {
      // Once the walk is inside A: one dead letter ahead of it in C, one in the queue (always at
      // its end) and one behind it, in a topic that sorts before A.
      if (added.length > 0 || !page.deadLetters.some(mine)) return;
      await deadLetterEvents(C, 1, 1);
      added.push(subId(C, "hook-1", 4), await queueDeadLetter(B));
      await failingSubscription(BEHIND, "hook");
      await deadLetterEvents(BEHIND, 1, 1);
    });
    expect(added).toHaveLength(2);
    for (const page of pages) expect(page.deadLetters.length).toBeLessThanOrEqual(4);
    const inOrder = [
      ...[1, 2, 3].map((seq) => subId(A, "hook-1", seq)),
      ...[1, 2, 3].map((seq) => subId(A, "hook-2", seq)),
      ...[1, 2, 3].map((seq) => subId(B, "hook-1", seq)),
      ...[1, 2, 3, 4].map((seq) => subId(C, "hook-1", seq)),
      ...queued,
      added[1],
    ];
    // The one recorded behind the cursor waits for the next walk; none is skipped or repeated.
    expect(ids).toEqual(inOrder);
    expect((await walk("/v1/dead-letters?limit=5")).ids).toEqual([subId(BEHIND, "hook", 1), ...inOrder]);
  });

  it("pages a filtered listing the same way", async () => {
    const { ids, pages } = await walk(`/v1/dead-letters?topic=${A}&limit=2`);
    expect(ids).toEqual([
      ...[1, 2, 3].map((seq) => subId(A, "hook-1", seq)),
      ...[1, 2, 3].map((seq) => subId(A, "hook-2", seq)),
      queued[0],
      queued[3],
    ]);
    expect(pages.map((p) => p.deadLetters.length)).toEqual([2, 2, 2, 2]);
    expect((await walk(`/v1/dead-letters?consumer=${CONSUMER}&topic=${A}&limit=1`)).ids).toEqual([
      queued[0],
      queued[3],
    ]);
  });

  it("gives a key that administers some topics only theirs, reading on past other topics' queue dead letters", async () => {
    const scoped = { id: "pages-admin", secret: `sk_test_pages_${RUN}_0123456789`, topics: [`pages-${RUN}-*`] };
    const scopedEnv = {
      ...env,
      MESH_KEYS: JSON.stringify([...Object.values(KEYS), { ...scoped, ops: ["admin"] }]),
    };
    const app = createApp({ catalog: testCatalog });
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const asScoped = (path: string) =>
      app.fetch(
        new Request(`http://mesh${path}`, { headers: { authorization: `Bearer ${scoped.secret}` } }),
        scopedEnv,
        ctx,
      );
    // More queue dead letters of another topic in a row than one page reads, then one of A.
    for (let i = 0; i < 45; i++) await queueDeadLetter(OUTSIDE);
    const last = await queueDeadLetter(A);

    const everything = await walk("/v1/dead-letters?limit=100");
    expect(everything.ids.at(-1)).toBe(last);
    const { ids, pages } = await walk("/v1/dead-letters?limit=1", asScoped);
    expect(ids).toEqual(everything.ids);
    expect(pages.flatMap((p) => p.deadLetters).every(mine)).toBe(true);
    // A page that read only other topics' rows is empty, and its cursor reads on.
    expect(pages.some((p) => p.deadLetters.length === 0 && p.next !== null)).toBe(true);
  });
});

describe("GET …/subscriptions/:name/dead-letters with a cursor", () => {
  it("pages one subscription's dead letters in seq order", async () => {
    const path = `/v1/topics/${A}/subscriptions/hook-2/dead-letters?limit=2`;
    const { ids, pages } = await walk(path);
    expect(ids).toEqual([1, 2, 3].map((seq) => subId(A, "hook-2", seq)));
    expect(pages.map((p) => p.deadLetters.length)).toEqual([2, 1]);
  });

  it("refuses a cursor of another listing", async () => {
    const other = (
      await (await request(`/v1/topics/${A}/subscriptions/hook-1/dead-letters?limit=1`)).json<DeadLetterList>()
    ).next;
    const queue = (await (await request(`/v1/dead-letters?consumer=${CONSUMER}&limit=1`)).json<DeadLetterList>()).next;
    for (const cursor of [other, queue]) {
      expect(cursor).toEqual(expect.any(String));
      const res = await request(
        `/v1/topics/${A}/subscriptions/hook-2/dead-letters?cursor=${encodeURIComponent(cursor ?? "")}`,
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_query", param: "cursor" } });
    }
  });
});

describe("a malformed cursor", () => {
  const base64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const malformed = [
    "",
    "not a cursor!",
    "%%%",
    base64url("not json"),
    base64url("{}"),
    base64url("[1]"),
    base64url('{"kind":"queue","n":0}'),
    base64url('{"kind":"queue","n":1.5}'),
    base64url('{"kind":"queue","n":"1"}'),
    base64url('{"kind":"queue","n":1,"more":true}'),
    base64url('{"kind":"postal","n":1}'),
    base64url(JSON.stringify({ kind: "subscription", topic: "bad topic", subscription: "hook-1", seq: 1 })),
    base64url(JSON.stringify({ kind: "subscription", topic: A, subscription: "a:b", seq: 1 })),
  ];

  it("is refused with invalid_query naming cursor, by both listings", async () => {
    for (const path of ["/v1/dead-letters?limit=2", `/v1/topics/${A}/subscriptions/hook-1/dead-letters?limit=2`]) {
      for (const cursor of malformed) {
        const res = await request(`${path}&cursor=${encodeURIComponent(cursor)}`);
        expect(res.status, `${path} ${cursor}`).toBe(400);
        const body = await res.json<{ error: { code: string; param: string; message: string } }>();
        expect(body.error, cursor).toMatchObject({ code: "invalid_query", param: "cursor" });
        expect(body.error.message).toMatch(/^cursor /);
      }
    }
  });
});
