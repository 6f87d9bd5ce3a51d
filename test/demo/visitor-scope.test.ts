import { env } from "cloudflare:workers";
import type { TokenResponse } from "event-mesh/client";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import {
  FailureSwitchSchema,
  MeAnswerSchema,
  notificationTopic,
  OutboxAnswerSchema,
  type SignupAnswer,
} from "../../demo/api-shapes.ts";
import { notificationStore } from "../../demo/durable-objects/notification-store.ts";
import { DEMO_KEYS } from "../support/demo-credentials.ts";
import { demoFetch, newVisitor, operatorFetch, refusal, uniqueEmail, type Visitor } from "./support/demo-fetch.ts";

async function signUp(visitor: Visitor, name: string): Promise<SignupAnswer> {
  const res = await visitor.send("POST", "/demo/users", { name, email: uniqueEmail(name.toLowerCase()) });
  expect(res.status).toBe(201);
  return res.json<SignupAnswer>();
}

async function tokenFor(visitor: Visitor, userId: string): Promise<TokenResponse> {
  const res = await visitor.fetch(`/demo/token?userId=${encodeURIComponent(userId)}`);
  expect(res.status).toBe(200);
  return res.json<TokenResponse>();
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** The close code a WebSocket upgrade with this token gets on `topic` (the mesh refuses on the socket). */
async function socketCloseCode(topic: string, token: string): Promise<number> {
  const res = await demoFetch(`/v1/topics/${topic}/ws?token=${encodeURIComponent(token)}`, {
    headers: { upgrade: "websocket" },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket as WebSocket;
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  ws.accept();
  return closed;
}

describe("the visitor cookie", () => {
  it("is signed, HttpOnly and SameSite=Strict, scoped to /demo, and set once", async () => {
    const res = await demoFetch("/demo/me");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^visitor=[0-9a-f-]{36}\.[^;]+;/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/demo");
    const visitor = await newVisitor();
    expect((await visitor.fetch("/demo/me")).headers.get("set-cookie")).toBeNull();
  });

  it("cannot be forged: another visitor's id with a bad signature is a new visitor", async () => {
    const victim = await newVisitor();
    await signUp(victim, "Victim");
    const forged = `visitor=${victim.id}.${encodeURIComponent("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")}`;
    const res = await demoFetch("/demo/me", { headers: { cookie: forged } });
    expect(res.headers.get("set-cookie")).not.toContain(victim.id);
    expect(v.parse(MeAnswerSchema, await res.json())).toEqual({ users: [], current: null });
  });
});

describe("a visitor reaches only its own users", () => {
  it("GET /demo/me lists only the visitor's users", async () => {
    const [a, b] = [await newVisitor(), await newVisitor()];
    const ada = await signUp(a, "Ada");
    await signUp(b, "Barbara");
    const me = v.parse(MeAnswerSchema, await (await a.fetch("/demo/me")).json());
    expect(me.users).toEqual([ada.user]);
  });

  it("gets a token only for its own user, and that token opens only that user's topic, read-only", async () => {
    const [a, b] = [await newVisitor(), await newVisitor()];
    const ada = await signUp(a, "Ada");
    const bob = await signUp(b, "Bob");

    await refusal(await a.fetch(`/demo/token?userId=${bob.user.userId}`), 404, "user_not_found");
    await refusal(await a.fetch("/demo/token?userId=u-nobody"), 404, "user_not_found");
    expect(await refusal(await a.fetch("/demo/token"), 400, "invalid_query")).toMatchObject({ param: "userId" });

    const token = await tokenFor(a, ada.user.userId);
    expect(token).toMatchObject({ topics: [notificationTopic(ada.user.userId)], ops: ["subscribe", "history"] });
    expect(new Date(token.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(120_000);

    const own = notificationTopic(ada.user.userId);
    expect((await demoFetch(`/v1/topics/${own}/events`, bearer(token.token))).status).toBe(200);
    // B's topic and the users topic (every user's name and address) are refused, over HTTP and on the socket.
    for (const topic of [notificationTopic(bob.user.userId), "users"]) {
      await refusal(await demoFetch(`/v1/topics/${topic}/events`, bearer(token.token)), 403, "forbidden");
      expect(await socketCloseCode(topic, token.token)).toBe(4403);
    }
    // Read-only: it cannot publish, not even to its own topic.
    const publish = await demoFetch(`/v1/topics/${own}/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${token.token}`, "content-type": "application/json" },
      body: JSON.stringify({ specversion: "1.0", id: "x", source: "/x", type: "WelcomeEmailSent", data: {} }),
    });
    await refusal(publish, 403, "forbidden");
  });

  it("reads only its own outbox", async () => {
    const [a, b] = [await newVisitor(), await newVisitor()];
    const ada = await signUp(a, "Ada");
    const bob = await signUp(b, "Bob");
    const welcome = (user: SignupAnswer["user"]) => ({
      userId: user.userId,
      name: user.name,
      to: user.email,
      causationId: `user-registered-${user.userId}`,
    });
    // Straight into each visitor's store, so the test does not wait for the queue.
    await notificationStore(env, a.id).sendWelcome(welcome(ada.user));
    await notificationStore(env, b.id).sendWelcome(welcome(bob.user));

    const outbox = v.parse(OutboxAnswerSchema, await (await a.fetch("/demo/outbox")).json());
    expect(outbox.emails.map((e) => e.userId)).toEqual([ada.user.userId]);
    await refusal(await a.fetch(`/demo/outbox?userId=${bob.user.userId}`), 404, "user_not_found");
  });

  it("flips only its own failure switch", async () => {
    const [a, b] = [await newVisitor(), await newVisitor()];
    const on = await a.send("PUT", "/demo/failure-switch", { failing: true });
    expect(v.parse(FailureSwitchSchema, await on.json())).toEqual({ failing: true, until: null });
    const other = v.parse(FailureSwitchSchema, await (await b.fetch("/demo/failure-switch")).json());
    expect(other).toEqual({ failing: false, until: null });
    expect(await notificationStore(env, b.id).failureSwitch()).toEqual({ failing: false, until: null });
  });
});

describe("nothing lists every user", () => {
  it("no demo route lists users, with or without the operator key", async () => {
    const visitor = await newVisitor();
    await signUp(visitor, "Grace");
    for (const res of [await visitor.fetch("/demo/users"), await operatorFetch("/demo/users")]) {
      const error = await refusal(res, 405, "method_not_allowed");
      expect(res.headers.get("allow")).toBe("POST");
      expect(error.allow).toEqual(["POST"]);
    }
  });

  it("the users topic is closed to visitors and to the services' keys outside their scope", async () => {
    await refusal(await demoFetch("/v1/topics/users/events"), 401, "unauthorized");
    const notificationsKey = bearer(DEMO_KEYS.notifications.secret);
    await refusal(await demoFetch("/v1/topics/users/events", notificationsKey), 403, "forbidden");
    expect((await operatorFetch("/v1/topics/users/events")).status).toBe(200);
  });
});

describe("the demo's routes are declared once", () => {
  it.each([
    ["DELETE", "/demo/me", "GET"],
    ["POST", "/demo/token", "GET"],
    ["PUT", "/demo/outbox", "GET"],
    ["PATCH", "/demo/failure-switch", "GET, PUT"],
    ["GET", "/demo/users", "POST"],
  ])("%s %s answers 405 with Allow: %s", async (method, path, allow) => {
    const visitor = await newVisitor();
    const res = await visitor.fetch(path, { method });
    await refusal(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe(allow);
  });

  it("an unknown demo path is a 404 in the same error shape", async () => {
    const visitor = await newVisitor();
    await refusal(await visitor.fetch("/demo/nothing-here"), 404, "not_found");
  });
});
