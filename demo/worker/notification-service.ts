import { defineConsumer, type Mesh } from "event-mesh";
import { NOTIFICATION_SUBSCRIPTION, notificationTopic, SWITCH_ERROR } from "../api-shapes.ts";
import { catalog } from "../catalog.ts";
import { notificationStore } from "../durable-objects/notification-store.ts";
import { userStore } from "../durable-objects/user-store.ts";
import { type DemoEnv, requireSecret } from "./env.ts";
import { meshLink } from "./mesh-link.ts";

/** The CloudEvents `source` of everything the Notification Service publishes. */
export const NOTIFICATION_SERVICE_SOURCE = "/demo/notification-service";

/**
 * The Notification Service: a queue consumer of `UserRegistered`, fed by the durable subscription
 * "notification-service" on the users topic; it never hears from the User Service directly. It
 * keeps each visitor's emails and failure switch apart, and publishes to the user's own topic
 * with its own key, through `meshFetch` (the mesh's `fetch`, called in-process).
 *
 * Delivery is at least once, so every step is idempotent: the outbox keeps one email per causing
 * event, and the events it publishes have ids derived from that event, so the log stores each
 * once however often the message is redelivered.
 */
export function notificationService(meshFetch: Mesh["fetch"]) {
  return defineConsumer(catalog, {
    name: NOTIFICATION_SUBSCRIPTION,
    types: ["UserRegistered"],
    async handler(event, ctx) {
      const env = ctx.env as DemoEnv;
      const { userId } = event.data;
      const visitor = await userStore(env).visitorOf(userId);
      if (visitor === null) {
        // Not a signup of the demo's User Service (an operator published it by hand): nobody to welcome.
        ctx.log("welcome email skipped: no demo user", { userId });
        return;
      }
      const key = requireSecret(env, "DEMO_NOTIFICATIONS_KEY");
      const mesh = meshLink(meshFetch, env, ctx.executionCtx);
      const store = notificationStore(env, visitor);
      const topic = notificationTopic(userId);
      const trail = {
        subject: userId,
        causationid: event.id,
        ...(typeof event.correlationid === "string" ? { correlationid: event.correlationid } : {}),
      };
      if ((await store.failureSwitch()).failing) {
        const attempt = await store.recordFailure(event.id);
        // Published before throwing, so the page shows each failed attempt as it happens.
        await mesh.publish(key, NOTIFICATION_SERVICE_SOURCE, topic, {
          id: `${event.id}:failed:${attempt}`,
          type: "NotificationAttemptFailed",
          ...trail,
          data: { userId, attempt, error: SWITCH_ERROR },
        });
        ctx.log("welcome email attempt failed", { attempt, userId });
        throw new Error(SWITCH_ERROR);
      }
      const { email } = await store.sendWelcome({
        userId,
        name: event.data.name,
        to: event.data.email,
        causationId: event.id,
      });
      await mesh.publish(key, NOTIFICATION_SERVICE_SOURCE, topic, {
        id: `${event.id}:welcome`,
        type: "WelcomeEmailSent",
        ...trail,
        data: { userId, email: email.to, emailId: email.emailId, subject: email.subject },
      });
    },
  });
}
