import { env as runtimeEnv } from "cloudflare:workers";
import { demoNotifications } from "../../durable-objects/demo-notifications.ts";
import { notificationTopic, SWITCH_ERROR } from "../../protocol/demo.ts";
import type { Env } from "../../runtime/env.ts";
import { defineConsumer } from "../consumers/define-consumer.ts";
import { consumers } from "../consumers/registry.ts";
import { publishEvent } from "./publish-event.ts";

/** The CloudEvents `source` of everything the demo's Notification Service publishes. */
export const NOTIFICATION_SERVICE_SOURCE = "/demo/notification-service";

/**
 * The demo's Notification Service: a queue consumer of `UserRegistered`, fed by the durable
 * subscription "notification-service" on the users topic. It never hears from the User Service
 * directly. Delivery is at least once, so every step is idempotent: the outbox keeps one email
 * per causing event, and the events it publishes have ids derived from that event, so the log
 * stores each once however often the message is redelivered.
 */
export const notificationService = defineConsumer({
  name: "notification-service",
  types: ["UserRegistered"],
  async handler(event, ctx) {
    // Handlers get no env argument; the runtime's module-level env holds the same bindings.
    const env = runtimeEnv as unknown as Env;
    const service = demoNotifications(env);
    const topic = notificationTopic(event.data.userId);
    const trail = {
      causationid: event.id,
      ...(typeof event.correlationid === "string" ? { correlationid: event.correlationid } : {}),
    };
    if ((await service.failureSwitch()).failing) {
      const attempt = await service.recordFailure(event.id);
      // Published before throwing, so the page shows each failed attempt as it happens.
      await publishEvent(env, topic, {
        specversion: "1.0",
        id: `${event.id}:failed:${attempt}`,
        source: NOTIFICATION_SERVICE_SOURCE,
        type: "NotificationAttemptFailed",
        subject: event.data.userId,
        ...trail,
        data: { userId: event.data.userId, attempt, error: SWITCH_ERROR },
      });
      ctx.log("welcome email attempt failed", { attempt, userId: event.data.userId });
      throw new Error(SWITCH_ERROR);
    }
    const { email } = await service.sendWelcome({
      userId: event.data.userId,
      name: event.data.name,
      to: event.data.email,
      causationId: event.id,
    });
    await publishEvent(env, topic, {
      specversion: "1.0",
      id: `${event.id}:welcome`,
      source: NOTIFICATION_SERVICE_SOURCE,
      type: "WelcomeEmailSent",
      subject: event.data.userId,
      ...trail,
      data: { userId: email.userId, email: email.to, emailId: email.emailId, subject: email.subject },
    });
  },
});

consumers.register(notificationService);
