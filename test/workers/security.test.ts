import { beforeAll, describe, expect, it } from "vitest";
import { CLOSE } from "../../protocol/close-codes.ts";
import { mintToken } from "../../runtime/tokens.ts";
import { ADMIN_AUTH, KEYS, TOKEN_SECRET } from "../support/credentials.ts";
import { appFetch } from "./support/app-fetch.ts";
import { collect } from "./support/socket.ts";

// A missing credential, a wrong key and a key without the route's operation, on every route of the
// route table: route-security.test.ts. This file covers what that one does not: bad tokens, other
// topics, scopes, and the settings that change the policy.

const TOPIC = "secure.orders";
const b64url = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const b64urlDecode = (s: string) => atob(s.replace(/-/g, "+").replace(/_/g, "/"));

function call(method: string, path: string, auth: string | null, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (auth !== null) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  return appFetch(
    new Request(`http://mesh${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
}

const bearer = (secret: string) => `Bearer ${secret}`;

/** Protected routes of each kind, with the operation they need. */
const ROUTES = [
  {
    name: "publish",
    method: "POST",
    path: `/v1/topics/${TOPIC}/events`,
    body: { id: "x", source: "/sec", type: "Thing", specversion: "1.0" },
  },
  { name: "history", method: "GET", path: `/v1/topics/${TOPIC}/events` },
  { name: "topic info", method: "GET", path: `/v1/topics/${TOPIC}` },
  { name: "topic list", method: "GET", path: "/v1/topics" },
  {
    name: "put subscription",
    method: "PUT",
    path: `/v1/topics/${TOPIC}/subscriptions/sneaky`,
    body: { target: { type: "webhook", url: "http://127.0.0.1:9/hook" } },
  },
  { name: "list subscriptions", method: "GET", path: `/v1/topics/${TOPIC}/subscriptions` },
  { name: "dead letters", method: "GET", path: "/v1/dead-letters" },
  { name: "mint token", method: "POST", path: "/v1/tokens", body: { topics: [TOPIC] } },
] as const;

let tokens: Record<string, string>;

beforeAll(async () => {
  const res = await call("POST", `/v1/topics/${TOPIC}/events`, bearer(KEYS.admin.secret), {
    id: "seed",
    source: "/sec",
    type: "Thing",
    specversion: "1.0",
  });
  expect(res.status).toBe(201);
  const request = { topics: [TOPIC], ops: ["subscribe" as const, "history" as const], ttlSeconds: 60 };
  const valid = (await mintToken(request, KEYS.admin, TOKEN_SECRET)).token;
  const expired = (await mintToken(request, KEYS.admin, TOKEN_SECRET, Date.now() - 3_600_000)).token;
  const subscribeOnly = (await mintToken({ ...request, ops: ["subscribe"] }, KEYS.admin, TOKEN_SECRET)).token;
  const [header, payload, signature] = valid.split(".");
  const claims = JSON.parse(b64urlDecode(payload));
  tokens = {
    valid,
    expired,
    subscribeOnly,
    otherTopic: (await mintToken({ ...request, topics: ["other"] }, KEYS.admin, TOKEN_SECRET)).token,
    changedClaim: `${header}.${b64url(JSON.stringify({ ...claims, topics: ["*"], ops: ["subscribe", "history"] }))}.${signature}`,
    changedSignature: `${header}.${payload}.${signature.slice(0, -4)}${signature.endsWith("AAAA") ? "BBBB" : "AAAA"}`,
    algNone: `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${payload}.`,
    otherSecret: (await mintToken(request, KEYS.admin, "a-different-secret-0123456789abcdef")).token,
  };
});

/** Credentials that are not valid at all: 401 everywhere. */
function invalidCredentials(): [string, string | null, string][] {
  return [
    ["a malformed header", "Basic dXNlcjpwYXNz", "unauthorized"],
    ["an expired token", bearer(tokens.expired), "token_expired"],
    ["a token with a changed claim", bearer(tokens.changedClaim), "unauthorized"],
    ["a token with a changed signature", bearer(tokens.changedSignature), "unauthorized"],
    ["a token with alg none", bearer(tokens.algNone), "unauthorized"],
    ["a token signed with another secret", bearer(tokens.otherSecret), "unauthorized"],
  ];
}

/** Valid credentials without the right scope for the route: 403. */
function insufficientCredentials(route: (typeof ROUTES)[number]): [string, string][] {
  const list: [string, string][] = [
    ["a key for another topic", bearer(KEYS.usersPublisher.secret)],
    ["a token for another topic", bearer(tokens.otherTopic)],
  ];
  if (route.name !== "history" && route.name !== "topic info") {
    list.push(["a subscribe/history token", bearer(tokens.valid)]);
  } else {
    list.push(["a subscribe-only token", bearer(tokens.subscribeOnly)]);
  }
  return list;
}

async function expectUnchanged(): Promise<void> {
  const info = await call("GET", `/v1/topics/${TOPIC}`, bearer(KEYS.admin.secret));
  expect(await info.json()).toMatchObject({ head: 1 });
  const sub = await call("GET", `/v1/topics/${TOPIC}/subscriptions/sneaky`, bearer(KEYS.admin.secret));
  expect(sub.status).toBe(404);
}

describe.each(ROUTES)("$name ($method $path)", (route) => {
  it("refuses invalid credentials with 401 and a code", async () => {
    for (const [label, auth, code] of invalidCredentials()) {
      const res = await call(route.method, route.path, auth, "body" in route ? route.body : undefined);
      expect(res.status, label).toBe(401);
      expect(await res.json(), label).toMatchObject({ error: { code } });
    }
    await expectUnchanged();
  });

  it("refuses valid credentials without the scope with 403", async () => {
    for (const [label, auth] of insufficientCredentials(route)) {
      const res = await call(route.method, route.path, auth, "body" in route ? route.body : undefined);
      expect(res.status, label).toBe(403);
      expect(await res.json(), label).toMatchObject({ error: { code: "forbidden" } });
    }
    await expectUnchanged();
  });
});

describe("a subscribe-only token", () => {
  it("cannot publish", async () => {
    const res = await call("POST", `/v1/topics/${TOPIC}/events`, bearer(tokens.subscribeOnly), ROUTES[0].body);
    expect(res.status).toBe(403);
    await expectUnchanged();
  });
});

describe("the WebSocket", () => {
  async function open(query: string, headers: Record<string, string> = {}) {
    const res = await appFetch(
      new Request(`http://mesh/v1/topics/${TOPIC}/ws${query}`, { headers: { upgrade: "websocket", ...headers } }),
    );
    return collect(res);
  }

  it("refuses each bad credential with a terminal close code and delivers no event", async () => {
    const cases: [string, string, number, string][] = [
      ["a key in the URL", "?token=sk_not_a_key_0123456789abcdef0123456789", CLOSE.badRequest, "key_in_url"],
      ["an expired token", `?token=${tokens.expired}`, CLOSE.tokenExpired, "token_expired"],
      ["a changed claim", `?token=${tokens.changedClaim}`, CLOSE.unauthorized, "unauthorized"],
      ["a changed signature", `?token=${tokens.changedSignature}`, CLOSE.unauthorized, "unauthorized"],
      ["alg none", `?token=${tokens.algNone}`, CLOSE.unauthorized, "unauthorized"],
      ["a token for another topic", `?token=${tokens.otherTopic}`, CLOSE.forbidden, "forbidden"],
      ["a key without subscribe, in the URL", `?token=${KEYS.reader.secret}`, CLOSE.badRequest, "key_in_url"],
    ];
    for (const [label, query, closeCode, code] of cases) {
      const sock = await open(query);
      const closed = await sock.closed;
      expect(closed.code, label).toBe(closeCode);
      expect(sock.frames, label).toEqual([expect.objectContaining({ type: "error", code })]);
    }
  });

  it("accepts a valid token in the query or a key in the header", async () => {
    for (const sock of [await open(`?token=${tokens.subscribeOnly}`), await open("", ADMIN_AUTH)]) {
      await sock.until((frames) => frames.some((f) => f.type === "caught-up"), "caught-up");
      expect(sock.frames.filter((f) => f.type === "event")).toHaveLength(1);
      sock.ws.close(1000);
    }
  });
});

describe("tokens", () => {
  it("are minted only inside the key's scope", async () => {
    const minter = bearer(KEYS.notificationsMinter.secret);
    const ok = await call("POST", "/v1/tokens", minter, { topics: ["notifications.u1"], ttlSeconds: 60 });
    expect(ok.status).toBe(201);
    const body = await ok.json<{ token: string; expiresAt: string; ops: string[] }>();
    expect(body.ops).toEqual(["subscribe", "history"]);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    const wide = await call("POST", "/v1/tokens", minter, { topics: ["notifications.*", "users"] });
    expect(wide.status).toBe(403);
    expect(await wide.json()).toMatchObject({ error: { code: "forbidden", topic: "users" } });
    // A token may publish only where its key may: this one holds mint alone.
    const publishing = await call("POST", "/v1/tokens", minter, { topics: ["notifications.u1"], ops: ["publish"] });
    expect(publishing.status).toBe(403);
    expect(await publishing.json()).toMatchObject({ error: { code: "forbidden", operation: "publish" } });
    const bad = await call("POST", "/v1/tokens", minter, { topics: ["notifications.u1"], ops: ["admin"] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_body" } });
  });

  it("minted by the API open the topics they name", async () => {
    const res = await call("POST", "/v1/tokens", bearer(KEYS.admin.secret), { topics: [TOPIC], ops: ["history"] });
    const { token } = await res.json<{ token: string }>();
    const page = await call("GET", `/v1/topics/${TOPIC}/events`, bearer(token));
    expect(page.status).toBe(200);
    expect(await page.json()).toMatchObject({ head: 1 });
  });
});

describe("secure by default", () => {
  it("refuses protected routes when no keys are configured", async () => {
    const res = await appFetch(new Request(`http://mesh/v1/topics/${TOPIC}/events`), {
      MESH_KEYS: "",
      MESH_TOKEN_SECRET: "",
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "auth_not_configured" } });
  });

  it("serves public topic patterns without a credential, read-only", async () => {
    const publicTopics = { PUBLIC_TOPICS: "secure.*" };
    const read = await appFetch(new Request(`http://mesh/v1/topics/${TOPIC}/events`), publicTopics);
    expect(read.status).toBe(200);
    const write = await appFetch(
      new Request(`http://mesh/v1/topics/${TOPIC}/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(ROUTES[0].body),
      }),
      publicTopics,
    );
    expect(write.status).toBe(401);
    await expectUnchanged();
  });
});

describe("webhook targets", () => {
  it("refuses private and loopback hosts unless allowed, and stores nothing", async () => {
    for (const url of ["http://127.0.0.1:9/hook", "http://10.0.0.5/hook", "http://[::1]/hook", "http://localhost/x"]) {
      const res = await appFetch(
        new Request(`http://mesh/v1/topics/${TOPIC}/subscriptions/sneaky`, {
          method: "PUT",
          headers: { "content-type": "application/json", ...ADMIN_AUTH },
          body: JSON.stringify({ target: { type: "webhook", url } }),
        }),
        { WEBHOOK_ALLOWED_HOSTS: "" },
      );
      expect(res.status, url).toBe(422);
      expect(await res.json(), url).toMatchObject({ error: { code: "webhook_url_not_allowed", field: "target.url" } });
    }
    await expectUnchanged();
  });
});

describe("CORS", () => {
  it("answers only configured origins, preflights included", async () => {
    const cors = { CORS_ORIGINS: "https://app.example.com" };
    const preflight = (origin: string) =>
      appFetch(
        new Request(`http://mesh/v1/topics/${TOPIC}/events`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "GET",
            "access-control-request-headers": "authorization",
          },
        }),
        cors,
      );
    const allowed = await preflight("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");
    const refused = await preflight("https://evil.example.net");
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    const read = await appFetch(
      new Request(`http://mesh/v1/topics/${TOPIC}/events`, {
        headers: { origin: "https://app.example.com", ...ADMIN_AUTH },
      }),
      cors,
    );
    expect(read.status).toBe(200);
    expect(read.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    const plain = await call("GET", `/v1/topics/${TOPIC}/events`, bearer(KEYS.admin.secret));
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
  });
});
