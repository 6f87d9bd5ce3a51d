import type { HistoryPage, SubscriptionView } from "event-mesh/client";
import * as v from "valibot";
import { afterAll, describe, expect, it, vi } from "vitest";
import { MeAnswerSchema, notificationTopic, type SignupAnswer, SignupAnswerSchema } from "../../demo/api-shapes.ts";
import { newVisitor, operatorFetch, refusal, uniqueEmail, type Visitor } from "./support/demo-fetch.ts";

/** Users this file registered: their welcome emails are still on their way when the last test ends. */
const registered = new Set<string>();

async function signup(visitor: Visitor, body: unknown): Promise<Response> {
  const res = await visitor.send("POST", "/demo/users", body);
  if (res.status === 201) registered.add(v.parse(SignupAnswerSchema, await res.clone().json()).user.userId);
  return res;
}

// The chain each signup starts (subscription → queue → consumer → WelcomeEmailSent) runs on after
// the tests; waiting for its end keeps its log lines from arriving while the pool shuts down.
afterAll(async () => {
  await vi.waitFor(
    async () => {
      for (const userId of registered) {
        const page = await (await operatorFetch(`/v1/topics/${notificationTopic(userId)}/events`)).json<HistoryPage>();
        expect(page.events.map((e) => e.type)).toContain("WelcomeEmailSent");
      }
    },
    { timeout: 20_000, interval: 100 },
  );
});

async function usersOf(visitor: Visitor) {
  return v.parse(MeAnswerSchema, await (await visitor.fetch("/demo/me")).json()).users;
}

/** Every UserRegistered of the users topic for an address, as an operator reads them. */
async function registrationsOf(email: string) {
  const page = await (await operatorFetch("/v1/topics/users/events?limit=1000")).json<HistoryPage>();
  return page.events.filter((e) => (e.data as { email?: string } | undefined)?.email === email);
}

describe("POST /demo/users refuses bad input, names the field and stores nothing", () => {
  it("an invalid address", async () => {
    const visitor = await newVisitor();
    const error = await refusal(await signup(visitor, { name: "Ada", email: "not-an-email" }), 400, "invalid_body");
    expect(error).toMatchObject({
      message: "email must be a valid address",
      field: "email",
      issues: [{ path: "email", message: "email must be a valid address" }],
    });
    expect(await usersOf(visitor)).toEqual([]);
  });

  it("every missing or blank field", async () => {
    const visitor = await newVisitor();
    const blank = await refusal(await signup(visitor, { name: "   ", email: "" }), 400, "invalid_body");
    expect((blank.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(["email", "name"]);
    const missing = await refusal(await signup(visitor, {}), 400, "invalid_body");
    expect((missing.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(["email", "name"]);
    expect(await usersOf(visitor)).toEqual([]);
  });

  it("a name longer than the catalog allows", async () => {
    const visitor = await newVisitor();
    const error = await refusal(
      await signup(visitor, { name: "x".repeat(101), email: uniqueEmail("long") }),
      400,
      "invalid_body",
    );
    expect(error.issues).toEqual([{ path: "name", message: "name is at most 100 characters" }]);
    expect(await usersOf(visitor)).toEqual([]);
  });

  it("a body that is not JSON, not an object, too large, or not sent as JSON", async () => {
    const visitor = await newVisitor();
    await refusal(await signup(visitor, "{name:"), 400, "malformed_json");
    await refusal(await signup(visitor, ["Ada", "ada@example.com"]), 400, "invalid_body");
    const big = { name: "Ada", email: uniqueEmail("big"), pad: "x".repeat(5000) };
    expect(await refusal(await signup(visitor, big), 413, "body_too_large")).toMatchObject({ limit: 4096 });
    const form = await visitor.fetch("/demo/users", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "name=Ada&email=ada%40example.com",
    });
    await refusal(form, 415, "unsupported_media_type");
    expect(await usersOf(visitor)).toEqual([]);
  });
});

describe("POST /demo/users", () => {
  it("stores one user per address and publishes one UserRegistered, answering the stored event", async () => {
    const visitor = await newVisitor();
    const email = uniqueEmail("Grace");
    const first = await signup(visitor, { name: "Grace Hopper", email });
    expect(first.status).toBe(201);
    const created = v.parse(SignupAnswerSchema, await first.json());
    expect(created).toMatchObject({
      created: true,
      duplicate: false,
      user: { name: "Grace Hopper", email: email.toLowerCase() },
      registered: {
        id: `user-registered-${created.user.userId}`,
        type: "UserRegistered",
        source: "/demo/user-service",
        subject: created.user.userId,
        correlationid: created.user.correlationId,
        data: { userId: created.user.userId, name: "Grace Hopper", email: email.toLowerCase() },
      },
    });
    // The answer carries the event exactly as the log stores it.
    const [stored] = await registrationsOf(email.toLowerCase());
    expect(created.registered).toEqual(stored);

    // A double submit, with the address in another case: the same user, and the log dedups the event.
    const again = await signup(visitor, { name: "Grace Hopper", email: email.toUpperCase() });
    expect(again.status).toBe(200);
    const repeat = (await again.json()) as SignupAnswer;
    expect(repeat).toEqual({ ...created, created: false, duplicate: true });
    expect(await usersOf(visitor)).toEqual([created.user]);
    expect(await registrationsOf(email.toLowerCase())).toHaveLength(1);
  });

  it("creates the notification-service subscription (a queue target) on the first signup", async () => {
    const visitor = await newVisitor();
    await signup(visitor, { name: "Alan", email: uniqueEmail("alan") });
    const sub = await (
      await operatorFetch("/v1/topics/users/subscriptions/notification-service")
    ).json<SubscriptionView>();
    expect(sub).toMatchObject({
      state: "active",
      target: { type: "queue", queue: "DELIVERY_QUEUE" },
      types: ["UserRegistered"],
    });
  });

  it("refuses an address another visitor registered, with a stable code and nothing about that user", async () => {
    const [owner, other] = [await newVisitor(), await newVisitor()];
    const email = uniqueEmail("katherine");
    expect((await signup(owner, { name: "Katherine Johnson", email })).status).toBe(201);
    const res = await signup(other, { name: "Someone Else", email });
    const error = await refusal(res, 409, "email_taken");
    expect(Object.keys(error).sort()).toEqual(["code", "message"]);
    expect(error.message).not.toContain("Katherine");
    expect(await usersOf(other)).toEqual([]);
    expect(await registrationsOf(email)).toHaveLength(1);
  });

  it("GET /demo/me answers the visitor's users, newest first, and the newest one's stored registration", async () => {
    const visitor = await newVisitor();
    const first = (await (await signup(visitor, { name: "Ada", email: uniqueEmail("ada") })).json()) as SignupAnswer;
    const second = (await (
      await signup(visitor, { name: "Edsger", email: uniqueEmail("edsger") })
    ).json()) as SignupAnswer;
    const me = v.parse(MeAnswerSchema, await (await visitor.fetch("/demo/me")).json());
    expect(me).toEqual({
      users: [second.user, first.user],
      current: { user: second.user, registered: second.registered },
    });
  });
});
