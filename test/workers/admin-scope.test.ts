import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { deadLetterStore } from "../../durable-objects/dead-letter-store.ts";
import type { DeadLetterList } from "../../protocol/dead-letter-api.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { TopicList } from "../../protocol/responses.ts";
import { createApp } from "../../worker/app.ts";
import { ADMIN_AUTH, KEYS } from "../support/credentials.ts";
import { testCatalog } from "../support/test-catalog.ts";

/**
 * A key that administers some topics acts only inside them, on the deployment-wide routes too:
 * the topic list and the dead-letter API show and touch nothing of other topics.
 */
const RUN = crypto.randomUUID().slice(0, 8);
const MINE = `scope-${RUN}.orders`;
const THEIRS = `other-${RUN}.payments`;
const SCOPED = {
  id: "scoped-admin",
  secret: "sk_test_scoped_admin_0123456789abcdef",
  topics: [`scope-${RUN}.*`],
  ops: ["admin" as const],
};
const scopedEnv = { ...env, MESH_KEYS: JSON.stringify([...Object.values(KEYS), SCOPED]) };
const app = createApp({ catalog: testCatalog });
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

async function call(path: string, init: RequestInit = {}, auth = `Bearer ${SCOPED.secret}`): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", auth);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return app.fetch(new Request(`http://mesh${path}`, { ...init, headers }), scopedEnv, ctx);
}
const asAdmin = (path: string, init: RequestInit = {}) => call(path, init, ADMIN_AUTH.authorization);

/** A subscription whose every delivery fails once and is dead-lettered; one event published. */
async function deadLetterIn(topic: string): Promise<string> {
  const put = await asAdmin(`/v1/topics/${topic}/subscriptions/hook`, {
    method: "PUT",
    body: JSON.stringify({
      target: { type: "webhook", url: "http://127.0.0.1:9/hook" },
      retry: { maxAttempts: 1, firstDelayMs: 1, maxDelayMs: 1 },
    }),
  });
  expect(put.status).toBe(201);
  const publish = await asAdmin(`/v1/topics/${topic}/events`, {
    method: "POST",
    body: JSON.stringify({ id: `dl-${topic}`, source: "/scope", type: "Thing", specversion: "1.0" }),
  });
  expect(publish.status).toBe(201);
  const stub = env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));
  const id = `sub:${topic}:hook:1`;
  for (let run = 0; run < 20; run++) {
    if ((await asAdmin(`/v1/dead-letters/${encodeURIComponent(id)}`)).status === 200) return id;
    await runDurableObjectAlarm(stub);
  }
  throw new Error(`no dead letter ${id}`);
}

let mine: string;
let theirs: string;
let theirQueueLetter: DeadLetter;

beforeAll(async () => {
  mine = await deadLetterIn(MINE);
  theirs = await deadLetterIn(THEIRS);
  theirQueueLetter = await deadLetterStore(env).record({
    consumer: `scope-consumer-${RUN}`,
    topic: THEIRS,
    seq: 1,
    source: "/scope",
    eventId: `q-${RUN}`,
    event: {
      id: `q-${RUN}`,
      source: "/scope",
      type: "Thing",
      specversion: "1.0",
      seq: 1,
      time: new Date().toISOString(),
    },
    message: JSON.stringify({
      topic: THEIRS,
      seq: 1,
      subscription: "to-queue",
      event: { id: `q-${RUN}`, source: "/scope", type: "Thing", seq: 1 },
    }),
    attempts: 3,
    lastError: "Error: broke",
    firstFailureAt: new Date().toISOString(),
    lastFailureAt: new Date().toISOString(),
  });
});

describe("a key that administers some topics", () => {
  it("lists only its topics", async () => {
    const res = await call("/v1/topics");
    expect(res.status).toBe(200);
    const names = ((await res.json()) as TopicList).topics.map((t) => t.topic);
    expect(names).toContain(MINE);
    expect(names).not.toContain(THEIRS);
  });

  it("lists only its topics' dead letters, and is refused another topic's", async () => {
    const listed = ((await (await call("/v1/dead-letters?limit=1000")).json()) as DeadLetterList).deadLetters;
    expect(listed.map((d) => d.id)).toContain(mine);
    expect(listed.some((d) => d.topic === THEIRS)).toBe(false);
    const refused = await call(`/v1/dead-letters?topic=${THEIRS}`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "forbidden", topic: THEIRS } });
  });

  it("cannot read, redrive or delete another topic's dead letters, and nothing changes", async () => {
    for (const id of [theirs, theirQueueLetter.id]) {
      const path = `/v1/dead-letters/${encodeURIComponent(id)}`;
      expect((await call(path)).status, id).toBe(403);
      expect((await call(path, { method: "DELETE" })).status, id).toBe(403);
      expect((await call(`${path}/redrive`, { method: "POST" })).status, id).toBe(403);
    }
    const many = await call("/v1/dead-letters/redrive", {
      method: "POST",
      body: JSON.stringify({ ids: [mine, theirs] }),
    });
    expect(many.status).toBe(403);
    for (const id of [mine, theirs, theirQueueLetter.id]) {
      expect((await asAdmin(`/v1/dead-letters/${encodeURIComponent(id)}`)).status, id).toBe(200);
    }
  });

  it("acts on its own topics' dead letters", async () => {
    expect((await call(`/v1/dead-letters/${encodeURIComponent(mine)}`)).status).toBe(200);
    const deleted = await call(`/v1/dead-letters/${encodeURIComponent(mine)}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
  });
});
