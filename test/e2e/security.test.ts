import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import WebSocket from "ws";
import { createMeshClient } from "../../client/mesh-client.ts";
import type { SubscriptionError } from "../../client/subscription.ts";
import type { HistoryPage } from "../../protocol/responses.ts";
import { mintToken } from "../../runtime/tokens.ts";
import { adminApi } from "../support/admin-api.ts";
import { configWithRateLimits } from "../support/config-copy.ts";
import { KEYS, TOKEN_SECRET } from "../support/credentials.ts";
import { CutProxy } from "../support/cut-proxy.ts";
import { LocalServer } from "../support/local-server.ts";
import { sleep } from "../support/parties.ts";

const WAIT = { timeout: 30_000 };
const tick = (id: string) => ({ id, source: "/e2e-security", type: "Tick", specversion: "1.0" as const });
/** An event of the tests' catalog (test/support/test-catalog.ts). */
const attemptFailed = (id: string) => ({
  ...tick(id),
  type: "AttemptFailed",
  data: { userId: "u-1", attempt: 1, error: "timeout" },
});

describe("subscriber tokens with the real client", () => {
  // The e2e files' shared local server (test/support/shared-server-setup.ts).
  const server = { url: inject("meshUrl") };
  const api = adminApi(server);
  const topic = "secure.feed";
  const expiredToken = async () =>
    (await mintToken({ topics: [topic], ops: ["subscribe"], ttlSeconds: 60 }, KEYS.admin, TOKEN_SECRET, 0)).token;

  it("fetches a fresh token when the server says it expired, and on every reconnect", async () => {
    await api.publish(topic, [tick("a"), tick("b")]);
    // Cutting the connection makes the client reconnect, and so fetch a token again.
    const proxy = await new CutProxy(Number(new URL(server.url).port)).start();
    let calls = 0;
    const tokenFunction = async () => {
      calls += 1;
      // The first token is already expired: the server must close with 4440 and the client refresh.
      if (calls === 1) return expiredToken();
      const minted = await api.json<{ token: string }>("POST", "/v1/tokens", {
        topics: [topic],
        ops: ["subscribe"],
        ttlSeconds: 60,
      });
      return minted.token;
    };
    const seqs: number[] = [];
    const errors: SubscriptionError[] = [];
    const client = createMeshClient({
      url: proxy.url,
      WebSocket,
      token: tokenFunction,
      backoff: { firstDelayMs: 50, maxDelayMs: 200 },
    });
    const sub = client.subscribe(topic, { onEvent: (e) => seqs.push(e.seq), onError: (e) => errors.push(e) });
    try {
      await vi.waitFor(() => expect([sub.state, seqs.length]).toEqual(["live", 2]), WAIT);
      expect(errors).toContainEqual(expect.objectContaining({ code: "token_expired", terminal: false }));
      expect(calls).toBe(2);

      expect(proxy.reset()).toBeGreaterThan(0);
      await api.publish(topic, [tick("c")]);
      await vi.waitFor(() => expect(seqs).toEqual([1, 2, 3]), WAIT);
      expect(calls).toBeGreaterThanOrEqual(3);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it("stops for good on a static token that expired, reporting it", async () => {
    const errors: SubscriptionError[] = [];
    const client = createMeshClient({ url: server.url, WebSocket, token: await expiredToken() });
    const sub = client.subscribe(topic, { onEvent: () => {}, onError: (e) => errors.push(e) });
    await vi.waitFor(() => expect(sub.state).toBe("closed"), WAIT);
    expect(errors).toEqual([expect.objectContaining({ code: "token_expired", closeCode: 4440, terminal: true })]);
  });
});

describe("tokens on open sockets with the real client", () => {
  const server = { url: inject("meshUrl") };
  const api = adminApi(server);
  const topic = "secure.open";
  /** Signed here with the test secret: a 3 s lifetime, shorter than the API's 10 s floor, keeps the test short. */
  const shortToken = async (subject: string) =>
    (await mintToken({ topics: [topic], ops: ["subscribe"], ttlSeconds: 3, subject }, KEYS.admin, TOKEN_SECRET)).token;

  it("keeps one connection open past its first token's expiry by refreshing in band", async () => {
    let calls = 0;
    const states: string[] = [];
    const errors: SubscriptionError[] = [];
    const seqs: number[] = [];
    const client = createMeshClient({
      url: server.url,
      WebSocket,
      token: async () => {
        calls += 1;
        return shortToken("refreshing");
      },
    });
    const started = Date.now();
    client.subscribe(topic, {
      after: (await api.json<{ head: number }>("GET", `/v1/topics/${topic}`)).head,
      onEvent: (e) => seqs.push(e.seq),
      onStateChange: (state) => states.push(state),
      onError: (e) => errors.push(e),
    });
    try {
      await vi.waitFor(() => expect(Date.now() - started > 4_500 && calls >= 3).toBe(true), WAIT);
      await api.publish(topic, [tick("after-expiry")]);
      await vi.waitFor(() => expect(seqs).toHaveLength(1), WAIT);
      expect(states).toEqual(["replaying", "live"]);
      expect(errors).toEqual([]);
    } finally {
      client.close();
    }
  });

  it("stops for good when its subject's tokens are revoked, and is refused with a fresh one", async () => {
    const errors: SubscriptionError[] = [];
    const client = createMeshClient({ url: server.url, WebSocket, token: () => shortToken("revoked-user") });
    const sub = client.subscribe(topic, { onEvent: () => {}, onError: (e) => errors.push(e) });
    try {
      await vi.waitFor(() => expect(sub.state).toBe("live"), WAIT);
      const revoked = await api.json<{ disconnected: number }>("POST", "/v1/tokens/revocations", {
        subject: "revoked-user",
      });
      expect(revoked.disconnected).toBe(1);
      await vi.waitFor(() => expect(sub.state).toBe("closed"), WAIT);
      expect(errors).toEqual([expect.objectContaining({ code: "token_revoked", closeCode: 4401, terminal: true })]);
      const again = client.subscribe(topic, { onEvent: () => {}, onError: (e) => errors.push(e) });
      await vi.waitFor(() => expect(again.state).toBe("closed"), WAIT);
      expect(errors[1]).toMatchObject({ code: "token_revoked", terminal: true });
    } finally {
      client.close();
    }
  });
});

describe("rate limits", () => {
  // A server of its own with tiny limits: 5 requests per key, 8 per address, per 10 s window; it
  // refuses event types outside the tests' catalog.
  const config = configWithRateLimits("ratelimit", 5, 8);
  const server = new LocalServer({ config: config.path, vars: { UNKNOWN_EVENT_TYPES: "reject" } });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.dispose();
    config.remove();
  });

  const publish = (topic: string, id: string, key = KEYS.admin.secret) =>
    fetch(`${server.url}/v1/topics/${topic}/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json", authorization: `Bearer ${key}` },
      body: JSON.stringify(attemptFailed(id)),
    });
  // The limiter counts in fixed 10 s windows, aligned to the epoch: all counts must land in one.
  const leftInWindow = () => 10_000 - (Date.now() % 10_000);
  const nextWindow = () => sleep(leftInWindow() + 100);

  it("answers 429 with Retry-After per key and per address, stores nothing refused, and recovers", async () => {
    // The requests below take well under a second: start now unless the window is nearly over.
    if (leftInWindow() < 4_000) await nextWindow();
    for (let i = 1; i <= 5; i++) expect((await publish("limited", `k${i}`)).status).toBe(201);
    const byKey = await publish("limited", "k6");
    expect(byKey.status).toBe(429);
    expect(byKey.headers.get("retry-after")).toBe("10");
    expect(await byKey.json()).toMatchObject({ error: { code: "rate_limited" } });

    const other = KEYS.usersPublisher.secret;
    expect((await publish("users", "u1", other)).status).toBe(201);
    expect((await publish("users", "u2", other)).status).toBe(201);
    const byAddress = await publish("users", "u3", other);
    expect(byAddress.status).toBe(429);
    expect(((await byAddress.json()) as { error: { message: string } }).error.message).toContain("address");

    expect(await adminApi(server).info("limited")).toMatchObject({ head: 5 });

    await nextWindow();
    const recovered = await publish("limited", "k6");
    expect(recovered.status).toBe(201);
    expect(await recovered.json()).toMatchObject({ events: [{ seq: 6 }] });
  });

  it("limits a browser's socket publishes per token and refuses a type outside the catalog", async () => {
    const topic = "limited.chat";
    const { token } = await mintToken(
      { topics: [topic], ops: ["subscribe", "publish"], ttlSeconds: 60, subject: "browser-1" },
      KEYS.admin,
      TOKEN_SECRET,
    );
    const client = createMeshClient({ url: server.url, WebSocket, token });
    try {
      if (leftInWindow() < 4_000) await nextWindow();
      // Five publish frames are this token's allowance in the window; the first is refused by the catalog.
      await expect(client.publish(topic, { type: "Tick" })).rejects.toMatchObject({ code: "unknown_event_type" });
      const stored = await Promise.all(["c1", "c2", "c3", "c4"].map((id) => client.publish(topic, attemptFailed(id))));
      expect(stored.map((answer) => answer.seq).sort()).toEqual([1, 2, 3, 4]);
      await expect(client.publish(topic, attemptFailed("c5"))).rejects.toMatchObject({ code: "rate_limited" });
      const { events } = await adminApi(server).json<HistoryPage>("GET", `/v1/topics/${topic}/events`);
      expect(events.map((e) => [e.id, e.authtype, e.authid]).sort()).toEqual(
        ["c1", "c2", "c3", "c4"].map((id) => [id, "app_user", "browser-1"]),
      );
    } finally {
      client.close();
    }
  });
});
