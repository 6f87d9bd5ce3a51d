import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CoalesceOptions, createPublisher, PublishError, type PublishEvent } from "../../client/publisher.ts";
import type { PublishResponse } from "../../protocol/responses.ts";
import { ScriptedMesh } from "../support/scripted-mesh.ts";

// The publisher SDK's coalescing (client/publish-coalescer.ts) against a stand-in mesh on
// 127.0.0.1 that keeps a log, dedups by (source, id) and refuses a batch all-or-nothing as the
// mesh does; the real server's answers are checked by test/e2e/publish-coalescing.test.ts.
let mesh: ScriptedMesh;
beforeEach(async () => {
  mesh = await new ScriptedMesh().start();
});
afterEach(() => mesh.stop());

const fast = { firstDelayMs: 1, maxDelayMs: 5 };
const publisherOf = (coalesce?: CoalesceOptions | false, server = mesh) =>
  createPublisher({ baseUrl: server.url, source: "/unit", retry: fast, coalesce });
const event = (n: number): PublishEvent => ({ id: `e${n}`, type: "Tick", data: { n } });
const idsOf = (answer: PublishResponse) => answer.events.map((e) => e.id);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("coalescing concurrent publish() calls", () => {
  it("sends calls made together to one topic as one batch, and answers each caller with its own events", async () => {
    const publisher = publisherOf();
    const answers = await Promise.all([
      publisher.publish("t", event(1)),
      publisher.publish("t", [event(2), event(3)]),
      publisher.publish("t", event(4)),
      publisher.publish("t", [event(5), event(6), event(7)]),
    ]);
    expect(mesh.requests).toHaveLength(1);
    expect(mesh.requests[0].contentType).toBe("application/cloudevents-batch+json");
    expect(mesh.requests[0].events.map((e) => e.id)).toEqual(["e1", "e2", "e3", "e4", "e5", "e6", "e7"]);
    // Each caller's events stay together, in its order, with their own seqs.
    expect(answers.map(idsOf)).toEqual([["e1"], ["e2", "e3"], ["e4"], ["e5", "e6", "e7"]]);
    expect(answers.map((a) => a.events.map((e) => e.seq))).toEqual([[1], [2, 3], [4], [5, 6, 7]]);
    expect(answers.every((a) => a.topic === "t")).toBe(true);
  });

  it("groups per topic: calls to two topics make two requests", async () => {
    const publisher = publisherOf();
    const [a, b, c] = await Promise.all([
      publisher.publish("left", event(1)),
      publisher.publish("right", event(2)),
      publisher.publish("left", event(3)),
    ]);
    expect(mesh.requests.map((r) => [r.topic, r.events.map((e) => e.id)])).toEqual([
      ["left", ["e1", "e3"]],
      ["right", ["e2"]],
    ]);
    expect([a, b, c].map((x) => [x.topic, x.events[0].seq])).toEqual([
      ["left", 1],
      ["right", 1],
      ["left", 2],
    ]);
  });

  it("sends a call alone exactly as it came: one event in structured mode", async () => {
    await publisherOf().publish("t", event(1));
    expect(mesh.requests).toHaveLength(1);
    expect(mesh.requests[0].contentType).toBe("application/cloudevents+json");
  });

  it("fails only the caller whose event is refused; the others' events are stored", async () => {
    const publisher = publisherOf();
    const outcomes = await Promise.allSettled([
      publisher.publish("t", event(1)),
      publisher.publish("t", [event(2), { id: "bad", type: "Invalid" }, event(3)]),
      publisher.publish("t", [event(4), event(5)]),
      publisher.publish("t", event(6)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    const refused = (outcomes[1] as PromiseRejectedResult).reason;
    // The refusal it would have had alone: its own event's index and message.
    expect(refused).toBeInstanceOf(PublishError);
    expect(refused).toMatchObject({
      code: "schema_mismatch",
      status: 422,
      message: "data does not match (event 1)",
      details: { index: 1 },
    });
    // None of the refused caller's events is stored (its batch stays all-or-nothing), the rest are.
    expect(mesh.logs.get("t")?.map((e) => e.id)).toEqual(["e1", "e4", "e5", "e6"]);
    const answered = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    expect(answered.map((a) => a.events.map((e) => [e.id, e.seq]))).toEqual([
      [["e1", 1]],
      [
        ["e4", 2],
        ["e5", 3],
      ],
      [["e6", 4]],
    ]);
    // The coalesced request, then (side by side) the refused caller alone and the others again.
    const [coalesced, ...after] = mesh.requests.map((r) => r.events.map((e) => e.id).join(" "));
    expect(coalesced).toBe("e1 e2 bad e3 e4 e5 e6");
    expect(after.sort()).toEqual(["e1 e4 e5 e6", "e2 bad e3"]);
  });

  it("fails each caller with a refused event on its own when several have one", async () => {
    const publisher = publisherOf();
    const outcomes = await Promise.allSettled([
      publisher.publish("t", { id: "bad-1", type: "Invalid" }),
      publisher.publish("t", event(1)),
      publisher.publish("t", [event(2), { id: "bad-2", type: "Invalid" }]),
      publisher.publish("t", event(3)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "fulfilled", "rejected", "fulfilled"]);
    expect(mesh.requests[0].events).toHaveLength(5);
    expect((outcomes[0] as PromiseRejectedResult).reason).toMatchObject({
      code: "schema_mismatch",
      details: { index: 0 },
    });
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({
      code: "schema_mismatch",
      details: { index: 1 },
    });
    expect(mesh.logs.get("t")?.map((e) => e.id)).toEqual(["e1", "e3"]);
  });

  it("fails every caller alike on a refusal of the request as a whole", async () => {
    mesh.faults.push("403");
    const publisher = publisherOf();
    const outcomes = await Promise.allSettled([publisher.publish("t", event(1)), publisher.publish("t", event(2))]);
    expect(outcomes.map((o) => (o.status === "rejected" ? o.reason.code : o.status))).toEqual([
      "forbidden",
      "forbidden",
    ]);
    expect(mesh.requests).toHaveLength(1);
  });

  it("retries a coalesced request with the same ids: after a lost answer each caller gets its stored seqs", async () => {
    mesh.faults.push("store-then-drop", "503");
    const publisher = publisherOf();
    const answers = await Promise.all([
      publisher.publish("t", [{ type: "A" }, { type: "B" }]),
      publisher.publish("t", { type: "C" }),
    ]);
    expect(mesh.requests).toHaveLength(3);
    const bodies = mesh.requests.map((r) => JSON.stringify(r.events));
    expect(new Set(bodies).size).toBe(1);
    expect(answers.map((a) => a.events.map((e) => [e.seq, e.duplicate]))).toEqual([
      [
        [1, true],
        [2, true],
      ],
      [[3, true]],
    ]);
    expect(mesh.logs.get("t")).toHaveLength(3);
  });

  it("sends each caller alone when the server refuses the coalesced request as too large", async () => {
    const small = await new ScriptedMesh(2).start();
    try {
      const publisher = publisherOf({}, small);
      const answers = await Promise.all([1, 2, 3].map((n) => publisher.publish("t", event(n))));
      expect(answers.map((a) => a.events[0].seq).sort()).toEqual([1, 2, 3]);
      expect(small.requests.map((r) => r.events.length)).toEqual([3, 1, 1, 1]);
    } finally {
      await small.stop();
    }
  });

  it("answers a caller that aborts while gathering with its abort and leaves its events out", async () => {
    const publisher = publisherOf({ lingerMs: 30 });
    const controller = new AbortController();
    const kept = publisher.publish("t", event(1));
    const cancelled = publisher.publish("t", event(2), { signal: controller.signal });
    const joining = publisher.publish("t", event(3));
    controller.abort(new Error("cancelled"));
    await expect(cancelled).rejects.toThrow("cancelled");
    await Promise.all([kept, joining]);
    expect(mesh.requests.map((r) => r.events.map((e) => e.id))).toEqual([["e1", "e3"]]);
  });

  it("answers a caller that aborts while its shared request is under way at once; the others get their answers", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const publisher = createPublisher({
      baseUrl: mesh.url,
      retry: fast,
      // The answer is held until the test lets it through.
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        await held;
        return res;
      },
    });
    const controller = new AbortController();
    const kept = publisher.publish("t", event(1));
    const cancelled = publisher.publish("t", event(2), { signal: controller.signal });
    await expect.poll(() => mesh.requests.length).toBe(1);
    controller.abort(new Error("cancelled"));
    await expect(cancelled).rejects.toThrow("cancelled");
    release();
    expect(idsOf(await kept)).toEqual(["e1"]);
    // The request had already left with both events: the cancelled call's event is stored too.
    expect(mesh.logs.get("t")?.map((e) => e.id)).toEqual(["e1", "e2"]);
  });
});

describe("coalescing bounds and the off switch", () => {
  it("with linger 0 gathers the calls of one turn of the event loop, without a timer", async () => {
    const publisher = publisherOf({ lingerMs: 0 });
    const first = [publisher.publish("t", event(1)), publisher.publish("t", event(2))];
    await sleep(0);
    const later = publisher.publish("t", event(3));
    await Promise.all([...first, later]);
    expect(mesh.requests.map((r) => r.events.map((e) => e.id))).toEqual([["e1", "e2"], ["e3"]]);
  });

  it("lingers lingerMs for more calls after the first one, then sends", async () => {
    const publisher = publisherOf({ lingerMs: 40 });
    const start = performance.now();
    const first = publisher.publish("t", event(1));
    await sleep(10);
    const joining = publisher.publish("t", event(2));
    await Promise.all([first, joining]);
    expect(mesh.requests.map((r) => r.events.map((e) => e.id))).toEqual([["e1", "e2"]]);
    expect(mesh.requests[0].at - start).toBeGreaterThanOrEqual(35);
    await publisher.publish("t", event(3));
    expect(mesh.requests).toHaveLength(2);
  });

  it("sends a request once it holds maxEvents, without waiting out the linger", async () => {
    const publisher = publisherOf({ lingerMs: 10_000, maxEvents: 3 });
    const answers = await Promise.all([
      publisher.publish("t", event(1)),
      publisher.publish("t", [event(2), event(3)]),
      publisher.publish("t", [event(4), event(5), event(6)]),
    ]);
    expect(mesh.requests.map((r) => r.events.map((e) => e.id))).toEqual([
      ["e1", "e2", "e3"],
      ["e4", "e5", "e6"],
    ]);
    expect(answers.map((a) => a.events.map((e) => e.seq))).toEqual([[1], [2, 3], [4, 5, 6]]);
  });

  it("never joins calls beyond maxEvents; a call larger than the bound is sent alone", async () => {
    const publisher = publisherOf({ maxEvents: 4 });
    await Promise.all([
      publisher.publish("t", [event(1), event(2), event(3)]),
      publisher.publish("t", [event(4), event(5)]),
      publisher.publish("t", [event(6), event(7), event(8), event(9), event(10)]),
      publisher.publish("t", event(11)),
    ]);
    expect(mesh.requests.map((r) => r.events.length)).toEqual([3, 5, 3]);
  });

  it("sends an empty batch alone, for the server to refuse", async () => {
    const publisher = publisherOf();
    const [empty, other] = await Promise.allSettled([publisher.publish("t", []), publisher.publish("t", event(1))]);
    expect(empty).toMatchObject({ status: "rejected", reason: { code: "invalid_body" } });
    expect(other.status).toBe("fulfilled");
  });

  it("keeps each request's body within maxBytes", async () => {
    const maxBytes = 1_000;
    const publisher = publisherOf({ maxBytes });
    // About 410 bytes each with the filled attributes: two fit in 1,000 bytes, three do not.
    const padded = (n: number) => ({ ...event(n), pad: "x".repeat(300) });
    await Promise.all([1, 2, 3, 4, 5].map((n) => publisher.publish("t", padded(n))));
    expect(mesh.requests.map((r) => r.events.length)).toEqual([2, 2, 1]);
    for (const request of mesh.requests) expect(request.bytes).toBeLessThanOrEqual(maxBytes);
    expect(mesh.logs.get("t")).toHaveLength(5);
  });

  it("with coalesce: false sends every call as its own request", async () => {
    const publisher = publisherOf(false);
    await Promise.all([publisher.publish("t", event(1)), publisher.publish("t", [event(2), event(3)])]);
    expect(mesh.requests.map((r) => [r.contentType, r.events.length]).sort()).toEqual([
      ["application/cloudevents+json", 1],
      ["application/cloudevents-batch+json", 2],
    ]);
  });
});
