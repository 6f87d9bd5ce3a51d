import { afterEach, describe, expect, it, vi } from "vitest";
import { createPublisher, PublishError, retryAfterMs } from "../../client/publisher.ts";
import type { TestCatalog } from "../support/test-catalog.ts";

interface Call {
  url: string;
  headers: Record<string, string>;
  body: string;
}

type Answer = Response | Error;

/** A fetch that records each request and answers from a script (the last answer repeats). */
function scriptedFetch(answers: Answer[]) {
  const calls: Call[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    calls.push({ url, headers: init.headers as Record<string, string>, body: String(init.body) });
    const answer = answers[Math.min(calls.length, answers.length) - 1];
    if (answer instanceof Error) throw answer;
    return answer.clone();
  };
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const stored = (...seqs: number[]) =>
  json(201, { topic: "t", events: seqs.map((s) => ({ id: "x", source: "s", seq: s, duplicate: false })) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const fast = { firstDelayMs: 1, maxDelayMs: 5 };

afterEach(() => {
  vi.useRealTimers();
});

describe("createPublisher", () => {
  it("sends one event in structured mode, filling id, source, specversion and time", async () => {
    const { fetch, calls } = scriptedFetch([stored(1)]);
    const publisher = createPublisher({ baseUrl: "http://mesh.test/", source: "/signup", fetch });
    const answer = await publisher.publish("users", {
      type: "MemberJoined",
      data: { userId: "u1", name: "Ada", email: "ada@example.com" },
    });
    expect(answer.events[0].seq).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe("http://mesh.test/v1/topics/users/events");
    expect(calls[0].headers["content-type"]).toBe("application/cloudevents+json");
    const sent = JSON.parse(calls[0].body);
    expect(sent).toMatchObject({ source: "/signup", specversion: "1.0", type: "MemberJoined" });
    expect(sent.id).toMatch(UUID);
    expect(Date.parse(sent.time)).not.toBeNaN();
  });

  it("keeps attributes the caller set and passes extensions through", async () => {
    const { fetch, calls } = scriptedFetch([stored(1)]);
    const publisher = createPublisher({ baseUrl: "http://mesh.test", fetch, headers: { authorization: "Bearer k" } });
    const event = {
      id: "fixed",
      source: "/mine",
      time: "2020-01-01T00:00:00Z",
      type: "Custom",
      data: [1],
      correlationid: "c1",
      tenant: "acme",
    };
    await publisher.publish("t", event);
    expect(JSON.parse(calls[0].body)).toEqual({ ...event, specversion: "1.0" });
    expect(calls[0].headers.authorization).toBe("Bearer k");
  });

  it("uses a default source when neither the event nor the options name one", async () => {
    const { fetch, calls } = scriptedFetch([stored(1)]);
    await createPublisher({ baseUrl: "http://mesh.test", fetch }).publish("t", { type: "X" });
    expect(JSON.parse(calls[0].body).source).toBe("urn:event-mesh:publisher");
  });

  it("sends an array as one batch, each event with its own id", async () => {
    const { fetch, calls } = scriptedFetch([stored(1, 2, 3)]);
    await createPublisher({ baseUrl: "http://mesh.test", fetch }).publish("t", [
      { type: "A" },
      { type: "B" },
      { type: "C" },
    ]);
    expect(calls[0].headers["content-type"]).toBe("application/cloudevents-batch+json");
    const sent = JSON.parse(calls[0].body) as { id: string; type: string }[];
    expect(sent.map((e) => e.type)).toEqual(["A", "B", "C"]);
    expect(new Set(sent.map((e) => e.id)).size).toBe(3);
  });

  it("encodes the topic into the path", async () => {
    const { fetch, calls } = scriptedFetch([stored(1)]);
    await createPublisher({ baseUrl: "http://mesh.test", fetch }).publish("a/b", { type: "A" });
    expect(calls[0].url).toBe("http://mesh.test/v1/topics/a%2Fb/events");
  });

  it("retries network errors, 5xx and 429 with the same body, so the ids stay the same", async () => {
    const { fetch, calls } = scriptedFetch([
      new TypeError("fetch failed"),
      new Response("bad gateway", { status: 502 }),
      json(500, { error: { code: "internal", message: "internal error" } }),
      json(429, { error: { code: "rate_limited", message: "slow down" } }),
      stored(1, 2),
    ]);
    const publisher = createPublisher({ baseUrl: "http://mesh.test", fetch, retry: fast });
    const answer = await publisher.publish("t", [{ type: "A" }, { type: "B" }]);
    expect(answer.events[0].seq).toBe(1);
    expect(calls).toHaveLength(5);
    expect(new Set(calls.map((c) => c.body)).size).toBe(1);
  });

  it("waits as long as Retry-After says before the next attempt", async () => {
    vi.useFakeTimers();
    const { fetch, calls } = scriptedFetch([
      new Response("", { status: 503, headers: { "retry-after": "2" } }),
      stored(1),
    ]);
    const done = createPublisher({ baseUrl: "http://mesh.test", fetch, retry: { firstDelayMs: 1 } }).publish("t", {
      type: "A",
    });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await expect(done).resolves.toMatchObject({ events: [{ seq: 1 }] });
  });

  it("backs off with full jitter: each wait is at most the growing ceiling", async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0.999);
    const { fetch, calls } = scriptedFetch([new TypeError("down"), new TypeError("down"), stored(1)]);
    const done = createPublisher({
      baseUrl: "http://mesh.test",
      fetch,
      retry: { firstDelayMs: 100, maxDelayMs: 1_000 },
    }).publish("t", { type: "A" });
    await vi.advanceTimersByTimeAsync(98);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // ceiling 100 ms for the first retry
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(198);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // 200 ms for the second
    expect(calls).toHaveLength(3);
    await done;
    vi.restoreAllMocks();
  });

  it("throws a typed error with the server's code on a 4xx, without retrying", async () => {
    const { fetch, calls } = scriptedFetch([
      json(422, {
        error: { code: "schema_mismatch", message: "data does not match", index: 0, issues: [{ path: "email" }] },
      }),
    ]);
    const failure = await createPublisher({ baseUrl: "http://mesh.test", fetch, retry: fast })
      .publish("t", { type: "A" })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PublishError);
    expect(failure).toMatchObject({
      code: "schema_mismatch",
      status: 422,
      message: "data does not match",
      details: { index: 0, issues: [{ path: "email" }] },
      attempts: 1,
    });
    expect(calls).toHaveLength(1);
  });

  it("gives up after maxAttempts with the last failure", async () => {
    const { fetch, calls } = scriptedFetch([new Response("unavailable", { status: 503 })]);
    const failure = await createPublisher({ baseUrl: "http://mesh.test", fetch, retry: { ...fast, maxAttempts: 3 } })
      .publish("t", { type: "A" })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: "http_error", status: 503, attempts: 3 });
    expect(calls).toHaveLength(3);
  });

  it("reports a network failure as network_error after the last attempt", async () => {
    const { fetch } = scriptedFetch([new TypeError("connect ECONNREFUSED")]);
    const failure = await createPublisher({ baseUrl: "http://mesh.test", fetch, retry: { ...fast, maxAttempts: 2 } })
      .publish("t", { type: "A" })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: "network_error", status: null, attempts: 2 });
  });

  it("stops waiting when the signal aborts", async () => {
    const { fetch, calls } = scriptedFetch([new Response("", { status: 503, headers: { "retry-after": "60" } })]);
    const controller = new AbortController();
    const done = createPublisher({ baseUrl: "http://mesh.test", fetch, retry: { maxDelayMs: 60_000 } }).publish(
      "t",
      { type: "A" },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("cancelled")), 10);
    await expect(done).rejects.toThrow("cancelled");
    expect(calls).toHaveLength(1);
  });

  it("is typed by the catalog it is given", () => {
    const publisher = createPublisher<TestCatalog>({ baseUrl: "http://mesh.test", fetch: async () => stored(1) });
    // Compile-time checks (npm run typecheck); the calls never run.
    const typeChecks = () => {
      // @ts-expect-error MemberJoined data needs userId, name and email
      publisher.publish("users", { type: "MemberJoined", data: { userId: "u1" } });
      // @ts-expect-error a catalog type's data is required
      publisher.publish("users", { type: "MemberJoined" });
      publisher.publish("users", [
        { type: "MemberJoined", data: { userId: "u1", name: "Ada", email: "a@example.com" } },
        // @ts-expect-error each batch member is checked against its own type
        { type: "GreetingSent", data: { userId: "u1", name: "Ada", email: "a@example.com" } },
      ]);
      publisher.publish("misc", { type: "NotInTheCatalog", data: { anything: [1, "two"] } });
    };
    expect(typeof typeChecks).toBe("function");
  });
});

describe("retryAfterMs", () => {
  it("reads delta-seconds and HTTP dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3_000);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5_000);
    expect(retryAfterMs("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });
});
