import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { DeadLetterList, HistoryPage } from "event-mesh/client";
import * as v from "valibot";
import { describe, expect, it, vi } from "vitest";
import {
  type FailureSwitch,
  FailureSwitchSchema,
  notificationTopic,
  OutboxAnswerSchema,
  type SignupAnswer,
  SWITCH_ERROR,
} from "../../demo/api-shapes.ts";
import { notificationStore } from "../../demo/durable-objects/notification-store.ts";
import { userStore } from "../../demo/durable-objects/user-store.ts";
import { newVisitor, operatorFetch, refusal, uniqueEmail, type Visitor } from "./support/demo-fetch.ts";

const WAIT = { timeout: 20_000, interval: 50 };

const failureSwitch = async (visitor: Visitor) =>
  v.parse(FailureSwitchSchema, await (await visitor.fetch("/demo/failure-switch")).json());
const setFailing = async (visitor: Visitor, body: unknown): Promise<FailureSwitch> => {
  const res = await visitor.send("PUT", "/demo/failure-switch", body);
  expect(res.status).toBe(200);
  return v.parse(FailureSwitchSchema, await res.json());
};
const outbox = async (visitor: Visitor, userId: string) =>
  v.parse(OutboxAnswerSchema, await (await visitor.fetch(`/demo/outbox?userId=${userId}`)).json()).emails;
/** A topic's events, as an operator reads them. */
const eventsOf = async (topic: string) =>
  (await (await operatorFetch(`/v1/topics/${topic}/events?limit=1000`)).json<HistoryPage>()).events;

describe("the failure switch", () => {
  it("refuses a bad body and changes nothing", async () => {
    const visitor = await newVisitor();
    const before = await failureSwitch(visitor);
    const notBoolean = await refusal(
      await visitor.send("PUT", "/demo/failure-switch", { failing: "yes" }),
      400,
      "invalid_body",
    );
    expect(notBoolean).toMatchObject({ field: "failing", message: "failing must be true or false" });
    const tooShort = await refusal(
      await visitor.send("PUT", "/demo/failure-switch", { failing: true, forSeconds: 0 }),
      400,
      "invalid_body",
    );
    expect(tooShort).toMatchObject({ field: "forSeconds" });
    await refusal(await visitor.send("PUT", "/demo/failure-switch", "{"), 400, "malformed_json");
    expect(await failureSwitch(visitor)).toEqual(before);
  });

  it("fails until switched off, or for a while", async () => {
    const visitor = await newVisitor();
    expect(await setFailing(visitor, { failing: true })).toEqual({ failing: true, until: null });
    const timed = await setFailing(visitor, { failing: true, forSeconds: 60 });
    expect(timed.failing).toBe(true);
    expect(new Date(timed.until ?? 0).getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await setFailing(visitor, { failing: false })).toEqual({ failing: false, until: null });
  });
});

describe("the outbox", () => {
  it("keeps one email per causing event", async () => {
    const visitor = await newVisitor();
    const registered = await userStore(env).register(visitor.id, { name: "Alan", email: uniqueEmail("alan") });
    if (!registered.ok) throw new Error("not registered");
    const { userId, email } = registered.user;
    const request = { userId, name: "Alan", to: email, causationId: `user-registered-${userId}` };
    const store = notificationStore(env, visitor.id);
    const first = await store.sendWelcome(request);
    const second = await store.sendWelcome(request);
    expect(first.created).toBe(true);
    expect(second).toEqual({ ok: true, created: false, email: first.email });
    expect(await outbox(visitor, userId)).toEqual([first.email]);
  });
});

/** What the runtime reports after the Worker's queue() handler ran a batch. */
interface QueueResult {
  explicitAcks: string[];
  retryMessages: { msgId: string; delaySeconds?: number }[];
}

/** The Worker's own queue() handler, called by the runtime (the service_binding_extra_handlers flag). */
const worker = exports.default as unknown as {
  queue(
    queue: string,
    messages: { id: string; timestamp: Date; attempts: number; body: unknown }[],
  ): Promise<QueueResult>;
};

describe("the Notification Service, one queue attempt at a time", () => {
  it("publishes each failed attempt while the switch is on, then sends exactly one email", async () => {
    const visitor = await newVisitor();
    // Stored without the User Service, so no subscription delivers it behind the test's back.
    const registered = await userStore(env).register(visitor.id, { name: "Edsger", email: uniqueEmail("edsger") });
    if (!registered.ok) throw new Error("not registered");
    const { user } = registered;
    const event = {
      specversion: "1.0",
      id: `user-registered-${user.userId}`,
      source: "/demo/user-service",
      type: "UserRegistered",
      time: new Date().toISOString(),
      seq: 1,
      correlationid: user.correlationId,
      data: { userId: user.userId, name: user.name, email: user.email },
    };
    const message = { topic: "users", seq: 1, subscription: "notification-service", event };
    const attempt = (attempts: number) =>
      worker.queue("mesh-deliveries", [{ id: `m${attempts}`, timestamp: new Date(), attempts, body: message }]);

    await setFailing(visitor, { failing: true });
    expect((await attempt(1)).retryMessages).toEqual([{ msgId: "m1", delaySeconds: 0 }]);
    expect((await attempt(2)).retryMessages).toEqual([{ msgId: "m2", delaySeconds: 0 }]);
    await setFailing(visitor, { failing: false });
    expect((await attempt(3)).explicitAcks).toEqual(["m3"]);
    // A redelivery after success (at least once) changes nothing.
    expect((await attempt(4)).explicitAcks).toEqual(["m4"]);

    const trail = { subject: user.userId, causationid: event.id, correlationid: user.correlationId };
    expect(await eventsOf(notificationTopic(user.userId))).toMatchObject([
      {
        type: "NotificationAttemptFailed",
        source: "/demo/notification-service",
        seq: 1,
        ...trail,
        data: { userId: user.userId, attempt: 1, error: SWITCH_ERROR },
      },
      { type: "NotificationAttemptFailed", seq: 2, ...trail, data: { attempt: 2 } },
      {
        type: "WelcomeEmailSent",
        seq: 3,
        ...trail,
        data: { userId: user.userId, email: user.email, subject: "Welcome, Edsger!" },
      },
    ]);
    const emails = await outbox(visitor, user.userId);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to: user.email, causationId: event.id });
  });
});

describe("a signup through the real path: subscription, queue, consumer", () => {
  /** Delivery runs in the users topic's alarm, due as soon as an event is appended. */
  const deliver = () => runDurableObjectAlarm(env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName("users")));
  const signUp = async (visitor: Visitor, name: string) =>
    (await visitor.send("POST", "/demo/users", { name, email: uniqueEmail(name) })).json<SignupAnswer>();

  it("sends one welcome email, caused by the UserRegistered event", async () => {
    const visitor = await newVisitor();
    const { user, registered } = await signUp(visitor, "Barbara");
    await deliver();
    const topic = notificationTopic(user.userId);
    await vi.waitFor(async () => expect(await eventsOf(topic)).toHaveLength(1), WAIT);
    expect(await eventsOf(topic)).toMatchObject([
      { type: "WelcomeEmailSent", causationid: registered.id, correlationid: user.correlationId },
    ]);
    expect(await outbox(visitor, user.userId)).toHaveLength(1);
  });

  it("dead-letters the message while the visitor's service fails; a redrive sends exactly one email", async () => {
    const [visitor, bystander] = [await newVisitor(), await newVisitor()];
    await setFailing(visitor, { failing: true });
    const { user } = await signUp(visitor, "Frances");
    // Another visitor's signup at the same time is not failed by this visitor's switch.
    const other = await signUp(bystander, "Hedy");
    await deliver();
    const deadLetter = async () =>
      (
        await (await operatorFetch("/v1/dead-letters?consumer=notification-service")).json<DeadLetterList>()
      ).deadLetters.find((d) => d.event.id === `user-registered-${user.userId}`);
    await vi.waitFor(async () => expect(await deadLetter()).toBeDefined(), WAIT);
    await vi.waitFor(async () => expect(await outbox(bystander, other.user.userId)).toHaveLength(1), WAIT);
    const letter = await deadLetter();
    // Every attempt failed visibly: one NotificationAttemptFailed per attempt, numbered 1, 2, …
    const topic = notificationTopic(user.userId);
    const failed = await eventsOf(topic);
    expect(failed.every((e) => e.type === "NotificationAttemptFailed")).toBe(true);
    expect(failed.map((e) => (e.data as { attempt: number }).attempt)).toEqual(
      Array.from({ length: letter?.attempts ?? 0 }, (_, i) => i + 1),
    );
    expect(letter?.lastError).toContain(SWITCH_ERROR);
    expect(await outbox(visitor, user.userId)).toEqual([]);

    await setFailing(visitor, { failing: false });
    const redrive = await operatorFetch(`/v1/dead-letters/${encodeURIComponent(letter?.id ?? "")}/redrive`, {
      method: "POST",
    });
    expect(redrive.status).toBe(202);
    await vi.waitFor(async () => expect(await outbox(visitor, user.userId)).toHaveLength(1), WAIT);
    await vi.waitFor(async () => expect((await eventsOf(topic)).at(-1)?.type).toBe("WelcomeEmailSent"), WAIT);
    expect((await eventsOf(topic)).filter((e) => e.type === "WelcomeEmailSent")).toHaveLength(1);
    expect(await deadLetter()).toBeUndefined();
  });
});
