import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublisher, PublishError } from "../../client/publisher.ts";
import type { HistoryPage, TopicInfo } from "../../protocol/responses.ts";
import { ADMIN_AUTH, KEYS } from "../support/credentials.ts";
import { type Fault, FlakyProxy } from "../support/flaky-proxy.ts";
import { LocalServer } from "../support/local-server.ts";

const server = new LocalServer();
const fast = { firstDelayMs: 20, maxDelayMs: 2_000 };

beforeAll(() => server.start());
afterAll(() => server.dispose());

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${server.url}${path}`, { headers: ADMIN_AUTH });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}

async function storedIds(topic: string): Promise<string[]> {
  const page = await getJson<HistoryPage>(`/v1/topics/${topic}/events?limit=1000`);
  return page.events.map((e) => String(e.id));
}

/** Fails the n-th attempt of each distinct request body with faults[n], then lets it through. */
function perBody(faults: Fault[]) {
  return (req: { body: string }, seen: readonly { body: string }[]): Fault =>
    faults[seen.filter((s) => s.body === req.body).length] ?? "pass";
}

describe("publisher SDK through a proxy that fails the first attempts", () => {
  let proxy: FlakyProxy;
  afterAll(() => proxy?.stop());

  it("stores one event exactly once after a lost answer, a 503, a dropped connection and a 429", async () => {
    proxy = await new FlakyProxy(() => server.url, perBody(["forward-then-drop", "503", "drop", "429"])).start();
    const publisher = createPublisher({ key: KEYS.admin.secret, baseUrl: proxy.url, source: "/e2e", retry: fast });
    const answer = await publisher.publish("flaky-one", {
      type: "MemberJoined",
      data: { userId: "u1", name: "Ada", email: "ada@example.com" },
    });
    // The first attempt was stored; the last one is recognised as the same event.
    expect(answer.events).toEqual([{ id: expect.any(String), source: "/e2e", seq: 1, duplicate: true }]);
    expect(proxy.requests.map((r) => r.fault)).toEqual(["forward-then-drop", "503", "drop", "429", "pass"]);
    expect(new Set(proxy.requests.map((r) => r.body)).size).toBe(1);
    expect(await storedIds("flaky-one")).toEqual([answer.events[0].id]);
    await proxy.stop();
  });

  it("stores each event of 10 concurrent publishes and a batch exactly once, seqs contiguous", async () => {
    proxy = await new FlakyProxy(() => server.url, perBody(["forward-then-drop", "503"])).start();
    const publisher = createPublisher({ key: KEYS.admin.secret, baseUrl: proxy.url, source: "/e2e", retry: fast });
    const singles = Array.from({ length: 10 }, (_, i) =>
      publisher.publish("flaky-many", { type: "Tick", data: { i } }),
    );
    const batch = publisher.publish("flaky-many", [
      { type: "Tick", data: { i: 10 } },
      { type: "Tick", data: { i: 11 } },
      { type: "Tick", data: { i: 12 } },
    ]);
    const answers = await Promise.all([...singles, batch]);
    const ids = answers.flatMap((a) => a.events.map((e) => e.id));
    expect(new Set(ids).size).toBe(13);
    // 11 requests, each tried three times.
    expect(proxy.requests).toHaveLength(33);

    const info = await getJson<TopicInfo>("/v1/topics/flaky-many");
    expect(info).toMatchObject({ head: 13, eventCount: 13 });
    const page = await getJson<HistoryPage>("/v1/topics/flaky-many/events?limit=1000");
    expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(page.events.map((e) => e.id).sort()).toEqual([...ids].sort());
    // Each answer names the seq its event really has.
    const seqOf = new Map(page.events.map((e) => [e.id, e.seq]));
    for (const e of answers.flatMap((a) => a.events)) expect(seqOf.get(e.id)).toBe(e.seq);
    await proxy.stop();
  });

  it("gives up with the last failure when every attempt fails, having stored only what reached the server", async () => {
    proxy = await new FlakyProxy(
      () => server.url,
      () => "503",
    ).start();
    const publisher = createPublisher({
      key: KEYS.admin.secret,
      baseUrl: proxy.url,
      retry: { ...fast, maxAttempts: 3 },
    });
    const failure = await publisher.publish("flaky-never", { type: "Tick" }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PublishError);
    expect(failure).toMatchObject({ code: "http_error", status: 503, attempts: 3 });
    expect(await getJson<TopicInfo>("/v1/topics/flaky-never")).toMatchObject({ head: 0 });
    await proxy.stop();
  });

  it("does not retry a refusal: a 4xx comes back at once with the server's code", async () => {
    proxy = await new FlakyProxy(
      () => server.url,
      () => "pass",
    ).start();
    const publisher = createPublisher({ key: KEYS.admin.secret, baseUrl: proxy.url, retry: fast });
    const failure = await publisher
      .publish("flaky-refused", { type: "MemberJoined", data: { userId: "u", name: "N", email: "bad" } })
      .catch((err: unknown) => err);
    expect(failure).toMatchObject({
      code: "schema_mismatch",
      status: 422,
      details: { issues: [{ path: "email", message: "email must be a valid address" }] },
    });
    expect(proxy.requests).toHaveLength(1);
    await proxy.stop();
  });
});

describe("restart with persisted state", () => {
  it("keeps the log, the epoch and the dedup keys, and continues the sequence", async () => {
    const publisher = createPublisher({ key: KEYS.admin.secret, baseUrl: server.url, source: "/e2e" });
    const first = await publisher.publish("restart", [
      { id: "a", type: "Tick" },
      { id: "b", type: "Tick" },
    ]);
    expect(first.events.map((e) => e.seq)).toEqual([1, 2]);
    const before = await getJson<TopicInfo>("/v1/topics/restart");

    await server.restart();
    const after = createPublisher({ key: KEYS.admin.secret, baseUrl: server.url, source: "/e2e" });

    expect(await getJson<TopicInfo>("/v1/topics/restart")).toEqual(before);
    expect(await storedIds("restart")).toEqual(["a", "b"]);
    expect((await after.publish("restart", { id: "b", type: "Tick" })).events).toEqual([
      { id: "b", source: "/e2e", seq: 2, duplicate: true },
    ]);
    expect((await after.publish("restart", { id: "c", type: "Tick" })).events).toEqual([
      { id: "c", source: "/e2e", seq: 3, duplicate: false },
    ]);
    expect(await storedIds("restart")).toEqual(["a", "b", "c"]);
  });
});
