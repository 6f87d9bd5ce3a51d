import { afterEach, describe, expect, it, vi } from "vitest";
import { acceptedEvent } from "../../protocol/mesh-event.ts";
import { allEvents, event, freshTopic, topicStub } from "./topic-client.ts";

// Group commit in the topic object: concurrent publish calls are written in one step, and each
// caller still gets exactly its own answer.

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * The `publish` log lines of `topic` once they account for `calls` calls: a line sums the write steps
 * of up to a second (durable-objects/publish-log.ts), so the last ones come by timer.
 */
async function publishLines<T>(
  topic: string,
  calls: number,
  run: () => Promise<T>,
): Promise<{ result: T; lines: { calls: number; steps: number }[] }> {
  const lines: { msg: string; topic: string; calls: number; steps: number }[] = [];
  const log = console.log;
  vi.spyOn(console, "log").mockImplementation((line: unknown, ...rest: unknown[]) => {
    if (typeof line === "string" && line.startsWith("{")) lines.push(JSON.parse(line));
    log(line, ...rest);
  });
  const result = await run();
  const own = () => lines.filter((l) => l.msg === "publish" && l.topic === topic);
  await vi.waitFor(() => expect(own().reduce((n, l) => n + l.calls, 0)).toBe(calls), { timeout: 3_000 });
  return { result, lines: own() };
}

describe("group commit", () => {
  it("writes 32 concurrent calls in fewer steps, with contiguous seqs and each call's events together", async () => {
    const topic = freshTopic("group");
    const stub = topicStub(topic);
    const calls = Array.from({ length: 32 }, (_, c) =>
      Array.from({ length: 1 + (c % 3) }, (_, i) => acceptedEvent(event(`g${c}-${i}`, { type: "Grouped" }))),
    );
    const { result: answers, lines } = await publishLines(topic, 32, () =>
      Promise.all(calls.map((events) => stub.publish(topic, events))),
    );
    // 32 calls in fewer write steps, and the steps in at most two lines (one at once, the rest within a second).
    expect(lines.reduce((n, l) => n + l.steps, 0)).toBeLessThan(32);
    expect(lines.length).toBeLessThanOrEqual(2);

    const seqs = answers.flatMap((answer) => answer.events.map((e) => e.seq)).sort((a, b) => a - b);
    const total = calls.reduce((n, events) => n + events.length, 0);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    answers.forEach((answer, c) => {
      expect(answer.events.map((e) => e.id)).toEqual(calls[c].map((e) => e.id));
      // A call's batch is stored in one piece.
      const own = answer.events.map((e) => e.seq);
      expect(own).toEqual(own.map((_, i) => own[0] + i));
    });
    const stored = await allEvents(topic);
    for (const answer of answers) {
      for (const e of answer.events) expect(stored[e.seq - 1].id).toBe(e.id);
    }
  });

  it("answers the same key from two callers in one group with one seq, stored once", async () => {
    const topic = freshTopic("group-dedup");
    const stub = topicStub(topic);
    const [a, b, c] = await Promise.all([
      stub.publish(topic, [acceptedEvent(event("same"))]),
      stub.publish(topic, [acceptedEvent(event("same"))]),
      stub.publish(topic, [acceptedEvent(event("other"))]),
    ]);
    expect(a.events[0].seq).toBe(b.events[0].seq);
    expect([a.events[0].duplicate, b.events[0].duplicate].sort()).toEqual([false, true]);
    expect((await allEvents(topic)).map((e) => e.id).sort()).toEqual(["other", "same"]);
    expect(c.events[0].duplicate).toBe(false);
  });

  it("fails only the call whose events cannot be stored; its neighbours are stored and answered", async () => {
    const topic = freshTopic("group-bad");
    const stub = topicStub(topic);
    // A row past SQLite's size limit makes its own call's append throw after a row was written.
    const tooBig = acceptedEvent(event("bad-2", { data: "x".repeat(3_000_000) }));
    const results = await Promise.allSettled([
      stub.publish(topic, [acceptedEvent(event("ok-1"))]),
      stub.publish(topic, [acceptedEvent(event("bad-1")), tooBig]),
      stub.publish(topic, [acceptedEvent(event("ok-2")), acceptedEvent(event("ok-3"))]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    // Calls reach the object in any order; the stored log is theirs alone, contiguous, and each call's
    // answer names where its events are.
    const stored = await allEvents(topic);
    expect(stored.map((e) => e.id).sort()).toEqual(["ok-1", "ok-2", "ok-3"]);
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3]);
    for (const result of results) {
      if (result.status !== "fulfilled") continue;
      for (const e of result.value.events) expect(stored[e.seq - 1].id).toBe(e.id);
    }
  });
});
