import { describe, expect, it } from "vitest";
import { type HubPublishDeps, publishFromSocket } from "../../durable-objects/hub-publish.ts";
import type { PublishFrame } from "../../protocol/frames.ts";
import type { AcceptedEvent } from "../../protocol/mesh-event.ts";
import type { SocketCredential } from "../../protocol/socket-credential.ts";
import { testCatalog } from "../support/test-catalog.ts";

/**
 * A hub's handling of one `publish` frame, with the rate limiter and the topic's log stood in for:
 * what is counted, what reaches the log, and the answer per event. The real path (a socket through
 * the Worker to a hub and a topic) is test/workers/hub-publish.test.ts.
 */

const token: SocketCredential = {
  tokenId: "jti-1",
  subject: "user-7",
  topics: ["chat.*"],
  ops: ["subscribe", "publish"],
  expiresAt: Date.now() + 60_000,
};
const now = new Date("2026-11-30T12:00:00Z");
const tick = (id: string) => ({ id, source: "/b", specversion: "1.0", type: "Tick" });

function fakeHub(options: { allow?: boolean; fail?: unknown } = {}) {
  const counted: string[] = [];
  const appended: AcceptedEvent[][] = [];
  let seq = 0;
  const deps: HubPublishDeps = {
    config: { maxEventBytes: 1000, unknownEventTypes: "accept" },
    catalog: () => testCatalog,
    limit: async (key) => {
      counted.push(key);
      return options.allow ?? true;
    },
    append: async (_topic, events) => {
      if (options.fail !== undefined) throw options.fail;
      appended.push(events);
      return { events: events.map((e) => ({ id: e.id, source: e.source, seq: ++seq, duplicate: false })) };
    },
  };
  return { deps, counted, appended };
}

const frame = (events: unknown[], topic = "chat.room"): PublishFrame => ({ type: "publish", id: "r1", topic, events });

describe("publishFromSocket", () => {
  it("appends the accepted events together with the token's authcontext, and answers each event in order", async () => {
    const hub = fakeHub();
    const big = { ...tick("big"), data: "x".repeat(2000) };
    const answer = await publishFromSocket(hub.deps, token, frame([tick("a"), big, tick("b")]), now);
    expect(answer).toEqual({
      type: "published",
      id: "r1",
      topic: "chat.room",
      results: [
        { seq: 1, duplicate: false },
        { error: { code: "event_too_large", message: expect.stringContaining("(event 1)") } },
        { seq: 2, duplicate: false },
      ],
    });
    expect(hub.counted).toEqual(["publish:token:jti-1"]);
    expect(hub.appended).toHaveLength(1);
    expect(hub.appended[0].map((e) => JSON.parse(e.json))).toEqual([
      { ...tick("a"), time: now.toISOString(), authtype: "app_user", authid: "user-7" },
      { ...tick("b"), time: now.toISOString(), authtype: "app_user", authid: "user-7" },
    ]);
  });

  it("refuses every event of a frame past the token's rate, a topic outside it, or a socket without a token, appending nothing", async () => {
    const limited = fakeHub({ allow: false });
    const codes = async (deps: HubPublishDeps, credential: SocketCredential | null, topic = "chat.room") =>
      (await publishFromSocket(deps, credential, frame([tick("a"), tick("b")], topic), now)).results.map((r) =>
        "error" in r ? r.error.code : r.seq,
      );
    expect(await codes(limited.deps, token)).toEqual(["rate_limited", "rate_limited"]);
    const hub = fakeHub();
    expect(await codes(hub.deps, token, "orders")).toEqual(["forbidden", "forbidden"]);
    expect(await codes(hub.deps, { ...token, ops: ["subscribe"] })).toEqual(["forbidden", "forbidden"]);
    expect(await codes(hub.deps, null)).toEqual(["forbidden", "forbidden"]);
    // A frame refused for its scope is not counted against the token's rate.
    expect(hub.counted).toEqual([]);
    expect([...limited.appended, ...hub.appended]).toEqual([]);
  });

  it("answers overloaded for every event when the topic's object cannot take the append", async () => {
    const hub = fakeHub({ fail: Object.assign(new Error("busy"), { overloaded: true }) });
    const answer = await publishFromSocket(hub.deps, token, frame([tick("a")]), now);
    expect(answer.results).toEqual([{ error: { code: "overloaded", message: expect.stringContaining("retry") } }]);
  });
});
