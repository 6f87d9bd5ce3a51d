import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { LogStore } from "../../durable-objects/log-store.ts";
import type { TopicLog } from "../../durable-objects/topic-log.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import type { HistoryPage } from "../../protocol/responses.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { caughtUp, collect, ofTopic, openTopicsSocket, seqsOf } from "./support/socket.ts";
import { freshTopic, history, info, publishCount, request } from "./topic-client.ts";

// Rewind (issue 16): a subscription starts from now, the last N events or a time, resolved by the
// topic's log to a cursor; the history API reads the last N events and a time range.
// REPLAY_PAGE_SIZE is 10 in the workers pool, so replays from the log span several pages.

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const stub = (topic: string) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));
const iso = (ms: number) => new Date(ms).toISOString();
/** Append times set on stored events: an hour ago plus a second per seq. */
const BASE = Date.now() - 3_600_000;
const atOf = (seq: number) => BASE + seq * 1000;

/** Sets the log's own append time of events `from`..`to` to `atOf(seq)`, as if published a second apart. */
async function stamp(topic: string, from: number, to: number, at = atOf): Promise<void> {
  await runInDurableObject(stub(topic), async (_instance: TopicLog, state) => {
    for (const seq of range(from, to)) state.storage.sql.exec("UPDATE events SET at = ? WHERE seq = ?", at(seq), seq);
  });
}

async function openPinned(topic: string, query: string) {
  return collect(await meshFetch(`http://mesh/v1/topics/${topic}/ws?${query}`, { headers: { upgrade: "websocket" } }));
}

describe("rewind on /v1/ws", () => {
  it("last N: subscribed names the cursor it resolved to, then exactly the last N events, caught-up and live", async () => {
    const topic = freshTopic("rw-last");
    await publishCount(topic, 30);
    const { epoch } = await info(topic);
    const sock = await openTopicsSocket();
    sock.subscribe(topic, { last: 5 });
    await sock.until(caughtUp(topic), "caught-up");
    expect(sock.frames[0]).toEqual({ type: "subscribed", topic, after: 25, epoch });
    await publishCount(topic, 3);
    await sock.until((f) => seqsOf(f, topic).at(-1) === 33, "live events");
    expect(ofTopic(sock.frames, topic)).toEqual(["subscribed", ...range(26, 30), "caught-up", 31, 32, 33]);
    sock.ws.close();
  });

  it("last 0 is from now; last beyond the log is the whole log, with no gap while nothing was trimmed", async () => {
    const topic = freshTopic("rw-now");
    await publishCount(topic, 12);
    const sock = await openTopicsSocket();
    sock.subscribe(topic, { last: 0 });
    await sock.until(caughtUp(topic), "caught-up");
    await publishCount(topic, 2);
    await sock.until((f) => seqsOf(f, topic).at(-1) === 14, "live events");
    expect(ofTopic(sock.frames, topic)).toEqual(["subscribed", "caught-up", 13, 14]);
    expect(sock.frames[0]).toMatchObject({ type: "subscribed", after: 12 });

    const whole = await openTopicsSocket();
    whole.subscribe(topic, { last: 1000, types: ["Thing"] });
    await whole.until(caughtUp(topic), "caught-up");
    expect(ofTopic(whole.frames, topic)).toEqual(["subscribed", ...range(1, 14), "caught-up"]);
    sock.ws.close();
    whole.ws.close();
  });

  it("since: from the first event stored at or after the time, by the log's append time; a future time is from now", async () => {
    const topic = freshTopic("rw-since");
    await publishCount(topic, 30);
    await stamp(topic, 1, 30);
    const sock = await openTopicsSocket();
    // Between the 20th and 21st events' append times, and exactly the 25th's.
    sock.subscribe(topic, { since: iso(atOf(20) + 500) });
    await sock.until(caughtUp(topic), "caught-up");
    expect(ofTopic(sock.frames, topic)).toEqual(["subscribed", ...range(21, 30), "caught-up"]);
    sock.subscribe(topic, { since: iso(atOf(25)) });
    await sock.until((f) => f.filter((x) => x.type === "caught-up").length === 2, "caught-up again");
    expect(ofTopic(sock.frames, topic).slice(-8)).toEqual(["subscribed", ...range(25, 30), "caught-up"]);

    const later = await openTopicsSocket();
    later.subscribe(topic, { since: iso(Date.now() + 3_600_000) });
    await later.until(caughtUp(topic), "caught-up");
    await publishCount(topic, 1);
    await later.until((f) => seqsOf(f, topic).at(-1) === 31, "live event");
    expect(ofTopic(later.frames, topic)).toEqual(["subscribed", "caught-up", 31]);
    sock.ws.close();
    later.ws.close();
  });

  it("finds a time by a binary search over seq: ties, both ends, and after a trim", async () => {
    const topic = freshTopic("rw-search");
    await publishCount(topic, 9);
    // Appends a second apart, with ties: seqs 1–2 at 1 s, 3 at 2 s, 4–8 at 3 s, 9 at 4 s.
    const at = (seq: number) => BASE + 1000 * (seq <= 2 ? 1 : seq === 3 ? 2 : seq <= 8 ? 3 : 4);
    await stamp(topic, 1, 9, at);
    const lookups = (store: LogStore, t: number) => ({
      first: store.firstAtOrAfter(BASE + t),
      last: store.lastAtOrBefore(BASE + t),
      aged: store.agedUpTo(BASE + t),
    });
    const found = await runInDurableObject(stub(topic), (_instance: TopicLog, state) => {
      const store = new LogStore(state.storage.sql, state.storage);
      const before = [0, 1000, 1500, 3000, 3001, 4000, 9000].map((t) => lookups(store, t));
      store.trimStep(3, 0, 100);
      return { before, trimmed: [0, 3000].map((t) => lookups(store, t)) };
    });
    expect(found.before).toEqual([
      { first: 1, last: null, aged: 0 },
      { first: 1, last: 2, aged: 0 },
      { first: 3, last: 2, aged: 2 },
      { first: 4, last: 8, aged: 3 },
      { first: 9, last: 8, aged: 8 },
      { first: 9, last: 9, aged: 8 },
      { first: null, last: 9, aged: 9 },
    ]);
    expect(found.trimmed).toEqual([
      { first: 4, last: null, aged: 0 },
      { first: 4, last: 8, aged: 0 },
    ]);
  });

  it("resumes exactly from the cursor a rewind resolved to, after a cut", async () => {
    const topic = freshTopic("rw-cut");
    await publishCount(topic, 20);
    const first = await openTopicsSocket();
    first.subscribe(topic, { last: 8 });
    await first.until(caughtUp(topic), "caught-up");
    const subscribed = first.frames[0];
    expect(subscribed).toMatchObject({ type: "subscribed", after: 12 });
    first.ws.close();
    await first.closed;
    await publishCount(topic, 5);
    // The client resumes with its cursor (the last seq it got, and the epoch), not with the rewind.
    const second = await openTopicsSocket();
    const epoch = subscribed.type === "subscribed" ? subscribed.epoch : undefined;
    second.subscribe(topic, { after: 20, epoch });
    await second.until(caughtUp(topic), "caught-up");
    expect(seqsOf(first.frames, topic)).toEqual(range(13, 20));
    expect(ofTopic(second.frames, topic)).toEqual(["subscribed", ...range(21, 25), "caught-up"]);
    second.ws.close();
  });

  it("a time whose events were trimmed starts with a retention gap, never skipping silently", async () => {
    const topic = freshTopic("rw-trim");
    await publishCount(topic, 20);
    // Events 1..10 a month old (past the 7-day retention), 11..20 an hour old.
    const month = Date.now() - 30 * 86_400_000;
    await stamp(topic, 1, 20, (seq) => (seq <= 10 ? month + seq * 1000 : atOf(seq)));
    await runInDurableObject(stub(topic), (_instance: TopicLog, state) => {
      state.storage.sql.exec("UPDATE meta SET value = '0' WHERE key = 'trim_due'");
    });
    await vi.waitFor(
      async () => {
        await runDurableObjectAlarm(stub(topic));
        expect((await info(topic)).oldest).toBe(11);
      },
      { timeout: 10_000, interval: 20 },
    );
    const sock = await openTopicsSocket();
    sock.subscribe(topic, { since: iso(month + 5_000) });
    await sock.until(caughtUp(topic), "caught-up");
    expect(ofTopic(sock.frames, topic)).toEqual(["subscribed", "gap", ...range(11, 20), "caught-up"]);
    expect(sock.frames[1]).toMatchObject({ type: "gap", reason: "retention", after: 0, oldest: 11 });

    // A time after the newest trimmed event: everything from it is retained, no gap.
    const kept = await openTopicsSocket();
    kept.subscribe(topic, { since: iso(atOf(15)) });
    await kept.until(caughtUp(topic), "caught-up");
    expect(ofTopic(kept.frames, topic)).toEqual(["subscribed", ...range(15, 20), "caught-up"]);

    // History says the same with 410.
    const res = await request(`/v1/topics/${topic}/events?since=${iso(month + 5_000)}`);
    expect(res.status).toBe(410);
    expect(await res.json()).toMatchObject({ error: { code: "cursor_expired", oldest: 11 } });

    // A log trimmed before the time of its newest trimmed event was recorded: any time up to its
    // oldest retained event counts as reaching trimmed events; later ones resolve as usual.
    await runInDurableObject(stub(topic), (_instance: TopicLog, state) => {
      state.storage.sql.exec("DELETE FROM meta WHERE key = 'trimmed_at'");
    });
    const { epoch } = await info(topic);
    expect(await stub(topic).rewind(topic, { since: atOf(11) })).toEqual({ epoch, after: 0 });
    expect(await stub(topic).rewind(topic, { since: atOf(11) + 1 })).toEqual({ epoch, after: 11 });
    sock.ws.close();
    kept.ws.close();
  });

  it("refuses a rewind with a cursor, two rewinds, or a malformed one, and keeps the socket", async () => {
    const topic = freshTopic("rw-bad");
    await publishCount(topic, 3);
    const sock = await openTopicsSocket();
    const bad = [
      { last: 2, after: 1 },
      { last: 2, since: iso(atOf(1)) },
      { since: iso(atOf(1)), epoch: "e" },
      { last: 1001 },
      { last: 1.5 },
      { since: "yesterday" },
    ];
    // One at a time: the order in which frames sent together are answered was seen to vary.
    for (const [i, start] of bad.entries()) {
      sock.subscribe(topic, start);
      await sock.until((f) => f.length === i + 1, `refusal ${i + 1}`);
    }
    expect(sock.frames.map((f) => (f.type === "error" ? f.code : f.type))).toEqual(bad.map(() => "invalid_body"));
    expect(sock.frames.map((f) => (f.type === "error" ? f.message : ""))).toEqual([
      "last: last starts a new subscription and after resumes one: give after (with its epoch) or last, not both",
      "since: give last or since, not both",
      "epoch: epoch belongs to an after cursor: since takes none",
      "last: last is at most 1000",
      "last: last must be an integer",
      "since: since must be an RFC 3339 timestamp",
    ]);
    sock.subscribe(topic, { last: 1 });
    await sock.until(caughtUp(topic), "caught-up after the refusals");
    expect(ofTopic(sock.frames, topic)).toEqual(["subscribed", 3, "caught-up"]);
    sock.ws.close();
  });
});

describe("rewind on the one-topic URL", () => {
  it("?last=N and ?since=: a subscribed frame names the resolved cursor, then the replay as usual", async () => {
    const topic = freshTopic("rw-pinned");
    await publishCount(topic, 15);
    await stamp(topic, 1, 15);
    const { epoch } = await info(topic);
    const last = await openPinned(topic, "last=4&batch=true");
    await last.until(caughtUp(topic), "caught-up");
    expect(last.frames[0]).toEqual({ type: "subscribed", topic, after: 11, epoch });
    expect(ofTopic(last.frames, topic)).toEqual(["subscribed", 12, 13, 14, 15, "caught-up"]);
    const since = await openPinned(topic, `since=${encodeURIComponent(iso(atOf(9)))}`);
    await since.until(caughtUp(topic), "caught-up");
    expect(ofTopic(since.frames, topic)).toEqual(["subscribed", ...range(9, 15), "caught-up"]);
    // Without a rewind the one-topic socket is sent no subscribed frame, as ever.
    const plain = await openPinned(topic, "after=13");
    await plain.until(caughtUp(topic), "caught-up");
    expect(ofTopic(plain.frames, topic)).toEqual([14, 15, "caught-up"]);
    for (const s of [last, since, plain]) s.ws.close();
  });

  it.each([
    ["last=3&after=2", "last starts a new subscription and after resumes one"],
    ["since=2026-01-01T00:00:00Z&last=1", "since: give last or since, not both"],
    ["last=1&epoch=e1", "epoch belongs to an after cursor"],
    ["last=1001", "last is at most 1000"],
    ["since=2026-01-01", "since must be an RFC 3339 timestamp"],
  ])("refuses ?%s with invalid_query and 4400", async (query, message) => {
    const sock = await openPinned(freshTopic("rw-pinned-bad"), query);
    expect((await sock.closed).code).toBe(CLOSE.badRequest);
    expect(sock.frames[0]).toMatchObject({ type: "error", code: "invalid_query" });
    expect(sock.frames[0].type === "error" && sock.frames[0].message).toContain(message);
  });
});

describe("history by count and time", () => {
  it("last=N reads the newest N events in one page; a smaller limit pages them", async () => {
    const topic = freshTopic("rw-hist-last");
    await publishCount(topic, 40);
    const page = await history(topic, "last=15");
    expect(page.events.map((e) => e.seq)).toEqual(range(26, 40));
    expect(page).toMatchObject({ head: 40, next: 40, more: false });
    const first = await history(topic, "last=15&limit=10");
    expect(first.events.map((e) => e.seq)).toEqual(range(26, 35));
    expect(first).toMatchObject({ next: 35, more: true });
    const rest = await history(topic, `after=${first.next}&limit=10`);
    expect(rest.events.map((e) => e.seq)).toEqual(range(36, 40));
  });

  it("since / until read a time range, paging with the cursor; until alone ends the page", async () => {
    const topic = freshTopic("rw-hist-time");
    await publishCount(topic, 40);
    await stamp(topic, 1, 40);
    const seqs: number[] = [];
    let query = `since=${iso(atOf(8))}&until=${iso(atOf(33) + 999)}&limit=10`;
    const pages: Pick<HistoryPage, "next" | "more">[] = [];
    for (;;) {
      const page = await history(topic, query);
      seqs.push(...page.events.map((e) => Number(e.seq)));
      pages.push({ next: page.next, more: page.more });
      if (!page.more) break;
      query = `after=${page.next}&until=${iso(atOf(33) + 999)}&limit=10`;
    }
    expect(seqs).toEqual(range(8, 33));
    expect(pages).toEqual([
      { next: 17, more: true },
      { next: 27, more: true },
      { next: 33, more: false },
    ]);
    const untilOnly = await history(topic, `until=${iso(atOf(3))}`);
    expect(untilOnly.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(untilOnly).toMatchObject({ next: 3, more: false });
    const lastUntil = await history(topic, `last=5&until=${iso(atOf(3))}`);
    expect(lastUntil.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it.each([
    ["last=3&after=2", "last"],
    ["since=2026-01-01T00:00:00Z&after=2", "since"],
    ["last=1&since=2026-01-01T00:00:00Z", "since"],
    ["last=0", "last"],
    ["last=1001", "last"],
    ["since=2026-01-01T00:00:00Z&until=2025-12-31T00:00:00Z", "until"],
    ["until=soon", "until"],
  ])("refuses ?%s with 400 invalid_query naming %s", async (query, param) => {
    const res = await request(`/v1/topics/${freshTopic("rw-hist-bad")}/events?${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_query", param } });
  });
});
