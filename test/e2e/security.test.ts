import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createMeshClient } from "../../client/mesh-client.ts";
import type { SubscriptionError } from "../../client/subscription.ts";
import { mintToken } from "../../worker/auth/tokens.ts";
import { ADMIN_AUTH, KEYS, TOKEN_SECRET } from "../support/credentials.ts";
import { LocalServer } from "../support/local-server.ts";

async function publish(url: string, topic: string, ids: string[], auth = ADMIN_AUTH): Promise<Response> {
  return fetch(`${url}/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json", ...auth },
    body: JSON.stringify(ids.map((id) => ({ id, source: "/e2e-security", type: "Tick", specversion: "1.0" }))),
  });
}

async function until(predicate: () => boolean, label: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("subscriber tokens with the real client", () => {
  const server = new LocalServer();
  beforeAll(() => server.start());
  afterAll(() => server.dispose());

  it("fetches a fresh token when the server says it expired, and on every reconnect", async () => {
    const topic = "secure.feed";
    expect((await publish(server.url, topic, ["a", "b"])).status).toBe(201);
    let calls = 0;
    const tokenFunction = async () => {
      calls += 1;
      // The first token is already expired: the server must close with 4440 and the client refresh.
      if (calls === 1) {
        return (await mintToken({ topics: [topic], ops: ["subscribe"], ttlSeconds: 60 }, KEYS.admin, TOKEN_SECRET, 0))
          .token;
      }
      const res = await fetch(`${server.url}/v1/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json", ...ADMIN_AUTH },
        body: JSON.stringify({ topics: [topic], ops: ["subscribe"], ttlSeconds: 60 }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { token: string }).token;
    };
    const seqs: number[] = [];
    const errors: SubscriptionError[] = [];
    const client = createMeshClient({
      url: server.url,
      WebSocket,
      token: tokenFunction,
      backoff: { firstDelayMs: 50, maxDelayMs: 200 },
    });
    const sub = client.subscribe(topic, { onEvent: (e) => seqs.push(e.seq), onError: (e) => errors.push(e) });
    try {
      await until(() => sub.state === "live" && seqs.length === 2, "live after the refresh");
      expect(errors).toContainEqual(expect.objectContaining({ code: "token_expired", terminal: false }));
      expect(calls).toBe(2);

      await server.restart();
      await publish(server.url, topic, ["c"]);
      await until(() => seqs.length === 3, "the event published across the restart");
      expect(seqs).toEqual([1, 2, 3]);
      expect(calls).toBeGreaterThanOrEqual(3);
    } finally {
      client.close();
    }
  });

  it("stops for good on a static token that expired, reporting it", async () => {
    const expired = (
      await mintToken({ topics: ["secure.feed"], ops: ["subscribe"], ttlSeconds: 60 }, KEYS.admin, TOKEN_SECRET, 0)
    ).token;
    const errors: SubscriptionError[] = [];
    const client = createMeshClient({ url: server.url, WebSocket, token: expired });
    const sub = client.subscribe("secure.feed", { onEvent: () => {}, onError: (e) => errors.push(e) });
    await until(() => sub.state === "closed", "closed");
    expect(errors).toEqual([expect.objectContaining({ code: "token_expired", closeCode: 4440, terminal: true })]);
  });
});

describe("rate limits", () => {
  // A copy of wrangler.toml with tiny limits: 5 requests per key, 8 per address, per 10 s window.
  const config = "wrangler.ratelimit-test.toml";
  writeFileSync(
    config,
    readFileSync("wrangler.toml", "utf8")
      .replace(/(name = "KEY_RATE_LIMITER"[\s\S]*?limit = )\d+/, "$15")
      .replace(/(name = "ADDRESS_RATE_LIMITER"[\s\S]*?limit = )\d+/, "$18"),
  );
  const server = new LocalServer({ config });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.dispose();
    rmSync(config, { force: true });
  });

  it("answers 429 with Retry-After per key and per address, stores nothing refused, and recovers", async () => {
    // Windows are fixed 10 s slots: start at the beginning of one so all counts land in it.
    await new Promise((r) => setTimeout(r, 10_000 - (Date.now() % 10_000) + 100));
    for (let i = 1; i <= 5; i++) expect((await publish(server.url, "limited", [`k${i}`])).status).toBe(201);
    const byKey = await publish(server.url, "limited", ["k6"]);
    expect(byKey.status).toBe(429);
    expect(byKey.headers.get("retry-after")).toBe("10");
    expect(await byKey.json()).toMatchObject({ error: { code: "rate_limited" } });

    const other = { authorization: `Bearer ${KEYS.usersPublisher.secret}` };
    expect((await publish(server.url, "users", ["u1"], other)).status).toBe(201);
    expect((await publish(server.url, "users", ["u2"], other)).status).toBe(201);
    const byAddress = await publish(server.url, "users", ["u3"], other);
    expect(byAddress.status).toBe(429);
    expect(((await byAddress.json()) as { error: { message: string } }).error.message).toContain("address");

    const info = await fetch(`${server.url}/v1/topics/limited`, { headers: ADMIN_AUTH });
    expect(await info.json()).toMatchObject({ head: 5 });

    await new Promise((r) => setTimeout(r, 10_000 - (Date.now() % 10_000) + 100));
    const recovered = await publish(server.url, "limited", ["k6"]);
    expect(recovered.status).toBe(201);
    expect(await recovered.json()).toMatchObject({ events: [{ seq: 6 }] });
  });
});
