import { afterAll, describe, expect, inject, it } from "vitest";
import { type CoalesceOptions, createPublisher, type PublishEvent } from "../../client/node/publisher-node.ts";
import type { PublishResponse } from "../../protocol/responses.ts";
import { adminApi } from "../support/admin-api.ts";
import { KEYS } from "../support/credentials.ts";
import { FlakyProxy } from "../support/flaky-proxy.ts";
import type { TestCatalog } from "../support/test-catalog.ts";

// The publisher SDK coalescing concurrent publish() calls against the real local server (the e2e
// files' shared one): what each caller is answered is what the log holds. Bounds, linger and the
// off switch are test/unit/publish-coalescing.test.ts's.
const server = { url: inject("meshUrl") };
const api = adminApi(server);
const CALLERS = 32;

/** A publisher with the admin key that counts its requests. */
function countingPublisher(baseUrl: string, coalesce?: CoalesceOptions) {
  const requests: string[] = [];
  const publisher = createPublisher<TestCatalog>({
    baseUrl,
    key: KEYS.admin.secret,
    source: "/e2e-coalescing",
    retry: { firstDelayMs: 20, maxDelayMs: 500 },
    coalesce,
    fetch: (url, init) => {
      requests.push(String(init.body));
      return fetch(url, init);
    },
  });
  return { publisher, requests };
}

const member = (n: number): PublishEvent<TestCatalog, "MemberJoined"> => ({
  type: "MemberJoined",
  data: { userId: `u${n}`, name: `Member ${n}`, email: `m${n}@example.com` },
});
/** Caller n publishes one event, or (every third caller) a batch of two. */
const eventsOf = (n: number) => (n % 3 === 0 ? [member(n * 10), member(n * 10 + 1)] : member(n * 10));

/** Every answered event against the log: same seq, same (source, id). */
async function expectAnswersStored(topic: string, answers: PublishResponse[]) {
  const { head, events } = await api.readLog(topic);
  const stored = new Map(events.map((e) => [e.seq, `${e.source} ${e.id}`]));
  for (const answer of answers) {
    for (const e of answer.events) expect(stored.get(e.seq)).toBe(`${e.source} ${e.id}`);
  }
  return { head, events };
}

describe("32 concurrent callers through one publisher", () => {
  it("share one request: all stored with contiguous seqs, each caller answered with its own", async () => {
    const topic = "coalesce.contiguous";
    const { publisher, requests } = countingPublisher(server.url);
    const answers = await Promise.all(Array.from({ length: CALLERS }, (_, n) => publisher.publish(topic, eventsOf(n))));
    expect(requests).toHaveLength(1);

    const { head, events } = await expectAnswersStored(topic, answers);
    const sent = answers.reduce((n, a) => n + a.events.length, 0);
    expect(head).toBe(sent);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    // Each caller's events are its own, in its order, with consecutive seqs.
    answers.forEach((answer, n) => {
      const count = Array.isArray(eventsOf(n)) ? 2 : 1;
      expect(answer.events).toHaveLength(count);
      expect(answer.events.every((e) => !e.duplicate)).toBe(true);
      if (count === 2) expect(answer.events[1].seq).toBe(answer.events[0].seq + 1);
    });
    expect(new Set(answers.flatMap((a) => a.events.map((e) => e.id))).size).toBe(sent);
  });

  it("dedups across callers: two callers with the same (source, id) get the same seq", async () => {
    const topic = "coalesce.dedup";
    const { publisher, requests } = countingPublisher(server.url);
    const same = { ...member(1), id: "same-event" };
    const answers = await Promise.all(
      Array.from({ length: CALLERS }, (_, n) => publisher.publish(topic, n === 5 || n === 20 ? same : member(n))),
    );
    expect(requests).toHaveLength(1);
    const [first, second] = [answers[5].events[0], answers[20].events[0]];
    expect(second.seq).toBe(first.seq);
    expect([first.duplicate, second.duplicate]).toEqual([false, true]);
    const { head, events } = await expectAnswersStored(topic, answers);
    expect(head).toBe(CALLERS - 1);
    expect(events.filter((e) => e.id === "same-event")).toHaveLength(1);
  });

  it("fails only the caller with an invalid event; the other 31 are stored with contiguous seqs", async () => {
    const topic = "coalesce.invalid";
    const { publisher, requests } = countingPublisher(server.url);
    const bad = 13;
    const outcomes = await Promise.allSettled(
      Array.from({ length: CALLERS }, (_, n) =>
        publisher.publish(
          topic,
          n === bad
            ? [member(n), { type: "MemberJoined", data: { userId: "u", name: "No mail", email: "not-an-email" } }]
            : eventsOf(n),
        ),
      ),
    );
    // The coalesced request (refused as a whole), then the invalid caller alone and the 31 others again.
    expect(requests.map((body) => JSON.parse(body).length)).toEqual([CALLERS + 12, 2, CALLERS + 10]);
    const refused = outcomes.flatMap((o, n) => (o.status === "rejected" ? [[n, o.reason]] : []));
    expect(refused).toEqual([[bad, expect.objectContaining({ code: "schema_mismatch", status: 422 })]]);
    // The index is the caller's own: the second event of its batch.
    expect((refused[0][1] as { details: unknown }).details).toMatchObject({ index: 1, type: "MemberJoined" });

    const answers = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    const { head, events } = await expectAnswersStored(topic, answers);
    const sent = answers.reduce((n, a) => n + a.events.length, 0);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    expect(head).toBe(sent);
    expect(events.some((e) => (e.data as { userId?: string } | undefined)?.userId === "u")).toBe(false);
  });
});

describe("a coalesced request whose answer is lost", () => {
  // The server stores the request and answers, but the answer never arrives (as when the server
  // restarts between the write and the answer); the retry carries the same ids.
  const proxy = new FlakyProxy(
    () => server.url,
    (_, seen) => (seen.length === 0 ? "forward-then-drop" : "pass"),
  );
  afterAll(() => proxy.stop());

  it("is sent again with the same ids: each caller is answered with the seqs stored the first time", async () => {
    await proxy.start();
    const topic = "coalesce.lost-answer";
    const { publisher } = countingPublisher(proxy.url);
    const answers = await Promise.all(Array.from({ length: CALLERS }, (_, n) => publisher.publish(topic, eventsOf(n))));
    expect(proxy.requests.map((r) => r.fault)).toEqual(["forward-then-drop", "pass"]);
    expect(proxy.requests[1].body).toBe(proxy.requests[0].body);
    expect(answers.every((a) => a.events.every((e) => e.duplicate))).toBe(true);
    const { head } = await expectAnswersStored(topic, answers);
    expect(head).toBe(answers.reduce((n, a) => n + a.events.length, 0));
  });
});
