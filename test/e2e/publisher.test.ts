import { afterAll, describe, expect, inject, it } from "vitest";
import { createPublisher as createNodePublisher } from "../../client/node/publisher-node.ts";
import { createPublisher as createFetchPublisher } from "../../client/publisher.ts";
import type { HistoryPage } from "../../protocol/responses.ts";
import { adminApi } from "../support/admin-api.ts";
import { KEYS } from "../support/credentials.ts";
import { type Fault, FlakyProxy } from "../support/flaky-proxy.ts";

// The e2e files' shared local server (test/support/shared-server-setup.ts). Concurrent publishers
// through lost answers, and a log that keeps its events, epoch and dedup keys across restarts, are
// proven by test/reliability (crash-restart, concurrent-publishers); giving up and refusals by
// test/unit/publisher.test.ts.
const server = { url: inject("meshUrl") };
const api = adminApi(server);

/** Fails the n-th attempt of each distinct request body with faults[n], then lets it through. */
function perBody(faults: Fault[]) {
  return (req: { body: string }, seen: readonly { body: string }[]): Fault =>
    faults[seen.filter((s) => s.body === req.body).length] ?? "pass";
}

// The Workers and browser entry (fetch) and the Node entry (node:http, kept-alive connections).
describe.each([
  { entry: "fetch", createPublisher: createFetchPublisher },
  { entry: "node", createPublisher: createNodePublisher },
])("the $entry publisher", ({ entry, createPublisher }) => {
  const proxy = new FlakyProxy(() => server.url, perBody(["forward-then-drop", "503", "drop", "429"]));
  afterAll(() => proxy.stop());

  it("stores one event exactly once after a lost answer, a 503, a dropped connection and a 429", async () => {
    await proxy.start();
    const publisher = createPublisher({
      key: KEYS.admin.secret,
      baseUrl: proxy.url,
      source: "/e2e",
      retry: { firstDelayMs: 20, maxDelayMs: 2_000 },
    });
    const topic = `publisher.flaky-${entry}`;
    const answer = await publisher.publish(topic, {
      type: "MemberJoined",
      data: { userId: "u1", name: "Ada", email: "ada@example.com" },
    });
    // The first attempt was stored; the last one is recognised as the same event.
    expect(answer.events).toEqual([{ id: expect.any(String), source: "/e2e", seq: 1, duplicate: true }]);
    expect(proxy.requests.map((r) => r.fault)).toEqual(["forward-then-drop", "503", "drop", "429", "pass"]);
    expect(new Set(proxy.requests.map((r) => r.body)).size).toBe(1);
    const page = await api.json<HistoryPage>("GET", `/v1/topics/${topic}/events`);
    expect(page.events.map((e) => e.id)).toEqual([answer.events[0].id]);
  });
});
