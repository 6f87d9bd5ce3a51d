import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { demoNotifications } from "../../durable-objects/demo-notifications.ts";
import type { DeadLetterList } from "../../protocol/dead-letter-api.ts";
import {
  type DemoUser,
  type FailureSwitch,
  notificationTopic,
  type OutboxEmail,
  type SignupResponse,
  SWITCH_ERROR,
} from "../../protocol/demo.ts";
import type { ErrorBody } from "../../protocol/error-codes.ts";
import type { JsonObject } from "../../protocol/json.ts";
import type { HistoryPage } from "../../protocol/responses.ts";
import type { SubscriptionView } from "../../protocol/subscriptions.ts";
import type { ConsumerContext } from "../../worker/consumers/define-consumer.ts";
import { notificationService } from "../../worker/demo/notification-service.ts";
import { meshFetch } from "./support/mesh-fetch.ts";

const BASE = "http://mesh";

function call(path: string, method = "GET", body?: unknown, contentType = "application/json"): Promise<Response> {
  return meshFetch(`${BASE}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": contentType },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

const signup = (body: unknown) => call("/demo/users", "POST", body);

async function users(): Promise<DemoUser[]> {
  return (await (await call("/demo/users")).json<{ users: DemoUser[] }>()).users;
}

async function refusal(res: Response, status: number, code: string): Promise<ErrorBody["error"]> {
  expect(res.status).toBe(status);
  const body = await res.json<ErrorBody>();
  expect(body.error.code).toBe(code);
  return body.error;
}

let n = 0;
const unique = (name: string) => `${name}-${Date.now()}-${++n}@example.com`;

describe("POST /demo/users refuses bad input and stores nothing", () => {
  it("names the email field of an invalid address", async () => {
    const before = await users();
    const error = await refusal(await signup({ name: "Ada", email: "not-an-email" }), 400, "invalid_body");
    expect(error.message).toBe("email must be a valid address");
    expect(error.issues).toEqual([{ path: "email", message: "email must be a valid address" }]);
    expect(await users()).toEqual(before);
  });

  it("names every missing or blank field", async () => {
    const error = await refusal(await signup({ name: "   ", email: "" }), 400, "invalid_body");
    expect((error.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(["email", "name"]);
  });

  it("refuses a name longer than the catalog allows", async () => {
    const error = await refusal(await signup({ name: "x".repeat(101), email: unique("long") }), 400, "invalid_body");
    expect(error.issues).toEqual([{ path: "name", message: "name is at most 100 characters" }]);
  });

  it("refuses a body that is not JSON, not an object, or too large", async () => {
    await refusal(await signup("{name:"), 400, "malformed_json");
    await refusal(await signup(["Ada", "ada@example.com"]), 400, "invalid_body");
    await refusal(await signup({ name: "Ada", email: unique("big"), pad: "x".repeat(5000) }), 413, "body_too_large");
  });

  it("answers 405 with Allow for other methods", async () => {
    const res = await call("/demo/users", "DELETE");
    await refusal(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("GET, POST");
  });
});

describe("POST /demo/users", () => {
  it("stores one user per address and publishes one UserRegistered with a deterministic id", async () => {
    const email = unique("Grace");
    const first = await signup({ name: "Grace Hopper", email });
    expect(first.status).toBe(201);
    const created = await first.json<SignupResponse>();
    expect(created).toMatchObject({
      created: true,
      user: { name: "Grace Hopper", email: email.toLowerCase() },
      event: { topic: "users", duplicate: false },
    });

    // A double submit, with the address in another case: the same user, and the log dedups the event.
    const again = await signup({ name: "Grace Hopper", email: email.toUpperCase() });
    expect(again.status).toBe(200);
    const repeat = await again.json<SignupResponse>();
    expect(repeat).toMatchObject({ created: false, user: created.user, event: { ...created.event, duplicate: true } });
    expect((await users()).filter((u) => u.email === email.toLowerCase())).toHaveLength(1);

    const page = await (
      await call(`/v1/topics/users/events?after=${created.event.seq - 1}&limit=1`)
    ).json<HistoryPage>();
    expect(page.events[0]).toMatchObject({
      id: `user-registered-${created.user.userId}`,
      type: "UserRegistered",
      seq: created.event.seq,
      correlationid: created.user.correlationId,
      data: { userId: created.user.userId, name: "Grace Hopper", email: email.toLowerCase() },
    });
  });
});

describe("the failure switch", () => {
  it("refuses a bad body and changes nothing", async () => {
    const before = await (await call("/demo/notification-service")).json<FailureSwitch>();
    await refusal(await call("/demo/notification-service", "PUT", { failing: "yes" }), 400, "invalid_body");
    await refusal(
      await call("/demo/notification-service", "PUT", { failing: true, forSeconds: 0 }),
      400,
      "invalid_body",
    );
    expect(await (await call("/demo/notification-service")).json<FailureSwitch>()).toEqual(before);
  });

  it("fails until switched off, or for a while", async () => {
    const on = await (await call("/demo/notification-service", "PUT", { failing: true })).json<FailureSwitch>();
    expect(on).toEqual({ failing: true, until: null });
    const timed = await (
      await call("/demo/notification-service", "PUT", { failing: true, forSeconds: 60 })
    ).json<FailureSwitch>();
    expect(timed.failing).toBe(true);
    expect(new Date(timed.until ?? 0).getTime()).toBeGreaterThan(Date.now() + 50_000);
    const off = await (await call("/demo/notification-service", "PUT", { failing: false })).json<FailureSwitch>();
    expect(off).toEqual({ failing: false, until: null });
  });
});

describe("the outbox", () => {
  it("keeps one email per causing event", async () => {
    const service = demoNotifications(env);
    const request = {
      userId: "u-outbox",
      name: "Alan",
      to: "alan@example.com",
      causationId: "user-registered-u-outbox",
    };
    const first = await service.sendWelcome(request);
    const second = await service.sendWelcome(request);
    expect(first.created).toBe(true);
    expect(second).toEqual({ ok: true, created: false, email: first.email });
    const { emails } = await (await call("/demo/outbox?userId=u-outbox")).json<{ emails: OutboxEmail[] }>();
    expect(emails).toEqual([first.email]);
  });
});

describe("the Notification Service handler", () => {
  const userId = `u-handler-${Date.now()}`;
  const registered: JsonObject = {
    specversion: "1.0",
    id: `user-registered-${userId}`,
    source: "/demo/user-service",
    type: "UserRegistered",
    time: new Date().toISOString(),
    seq: 1,
    correlationid: `signup-${userId}`,
    data: { userId, name: "Edsger", email: "edsger@example.com" },
  };
  const ctx = (attempt: number): ConsumerContext => ({
    consumer: "notification-service",
    topic: "users",
    seq: 1,
    subscription: "notification-service",
    attempt,
    log: () => {},
  });
  const history = async () =>
    (await (await call(`/v1/topics/notifications.${userId}/events`)).json<HistoryPage>()).events;

  it("fails while the switch is on, publishing each failed attempt; then sends exactly one email", async () => {
    await call("/demo/notification-service", "PUT", { failing: true });
    await expect(notificationService.handle(registered, ctx(1))).rejects.toThrow(SWITCH_ERROR);
    await expect(notificationService.handle(registered, ctx(2))).rejects.toThrow(SWITCH_ERROR);
    await call("/demo/notification-service", "PUT", { failing: false });
    await notificationService.handle(registered, ctx(3));
    // A redelivery after success (at least once) changes nothing.
    await notificationService.handle(registered, ctx(1));

    const trail = { causationid: registered.id, correlationid: registered.correlationid };
    expect(await history()).toMatchObject([
      { type: "NotificationAttemptFailed", seq: 1, ...trail, data: { userId, attempt: 1, error: SWITCH_ERROR } },
      { type: "NotificationAttemptFailed", seq: 2, ...trail, data: { userId, attempt: 2 } },
      {
        type: "WelcomeEmailSent",
        seq: 3,
        ...trail,
        data: { userId, email: "edsger@example.com", subject: "Welcome, Edsger!" },
      },
    ]);
    const { emails } = await (await call(`/demo/outbox?userId=${userId}`)).json<{ emails: OutboxEmail[] }>();
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to: "edsger@example.com", causationId: registered.id });
  });
});

describe("a signup through the real path: subscription, queue, consumer", () => {
  const WAIT = { timeout: 20_000, interval: 50 };
  const events = async (topic: string) => (await (await call(`/v1/topics/${topic}/events`)).json<HistoryPage>()).events;
  const outbox = async (userId: string) =>
    (await (await call(`/demo/outbox?userId=${userId}`)).json<{ emails: OutboxEmail[] }>()).emails;
  /** Delivery runs in the users topic's alarm, due as soon as an event is appended. */
  const deliver = () => runDurableObjectAlarm(env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName("users")));

  it("sends one welcome email, caused by the UserRegistered event", async () => {
    const { user, event } = await (await signup({ name: "Barbara", email: unique("barbara") })).json<SignupResponse>();
    await deliver();
    await vi.waitFor(async () => expect((await events(notificationTopic(user.userId))).length).toBe(1), WAIT);
    expect(await events(notificationTopic(user.userId))).toMatchObject([
      { type: "WelcomeEmailSent", causationid: event.id, correlationid: user.correlationId },
    ]);
    expect(await outbox(user.userId)).toHaveLength(1);
    const sub = await (await call("/v1/topics/users/subscriptions/notification-service")).json<SubscriptionView>();
    expect(sub).toMatchObject({ state: "active", target: { type: "queue", queue: "DELIVERY_QUEUE" } });
    expect(sub.cursor).toBeGreaterThanOrEqual(event.seq);
  });

  it("dead-letters the message while the service fails, and a redrive sends exactly one email", async () => {
    await call("/demo/notification-service", "PUT", { failing: true });
    const { user } = await (await signup({ name: "Frances", email: unique("frances") })).json<SignupResponse>();
    await deliver();
    const deadLetter = async () =>
      (await (await call("/v1/dead-letters?consumer=notification-service")).json<DeadLetterList>()).deadLetters.find(
        (d) => d.event.id === `user-registered-${user.userId}`,
      );
    await vi.waitFor(async () => expect(await deadLetter()).toBeDefined(), WAIT);
    const letter = await deadLetter();
    // Every attempt failed visibly: one NotificationAttemptFailed per attempt, numbered 1, 2, …
    const failed = await events(notificationTopic(user.userId));
    expect(failed.every((e) => e.type === "NotificationAttemptFailed")).toBe(true);
    expect(failed.map((e) => (e.data as JsonObject).attempt)).toEqual(
      Array.from({ length: letter?.attempts ?? 0 }, (_, i) => i + 1),
    );
    expect(letter?.lastError).toContain(SWITCH_ERROR);
    expect(await outbox(user.userId)).toEqual([]);

    await call("/demo/notification-service", "PUT", { failing: false });
    expect((await call(`/v1/dead-letters/${encodeURIComponent(letter?.id ?? "")}/redrive`, "POST")).status).toBe(202);
    await vi.waitFor(async () => expect(await outbox(user.userId)).toHaveLength(1), WAIT);
    await vi.waitFor(
      async () => expect((await events(notificationTopic(user.userId))).at(-1)?.type).toBe("WelcomeEmailSent"),
      WAIT,
    );
    expect((await events(notificationTopic(user.userId))).filter((e) => e.type === "WelcomeEmailSent")).toHaveLength(1);
  });
});
