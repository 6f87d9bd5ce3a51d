import { demoUsers } from "../../durable-objects/demo-users.ts";
import type { Signup, SignupResponse } from "../../protocol/demo.ts";
import { USERS_TOPIC } from "../../protocol/demo.ts";
import type { Env } from "../../runtime/env.ts";
import { ensureNotificationSubscription } from "./notification-subscription.ts";
import { publishEvent } from "./publish-event.ts";

/** The CloudEvents `source` of everything the demo's User Service publishes. */
export const USER_SERVICE_SOURCE = "/demo/user-service";

/**
 * The demo's User Service: stores the user (one per email), then publishes `UserRegistered`. It
 * knows nothing of notifications beyond making sure their subscription exists. The event id is
 * derived from the user, so a double submit or a retried request publishes the same event again
 * and the log answers `duplicate: true` instead of storing a second one.
 */
export async function registerUser(env: Env, signup: Signup): Promise<SignupResponse> {
  const { user, created } = await demoUsers(env).register(signup);
  // Before the first publish, so the subscription's cursor starts before this user's event.
  await ensureNotificationSubscription(env);
  const id = `user-registered-${user.userId}`;
  const published = await publishEvent(env, USERS_TOPIC, {
    specversion: "1.0",
    id,
    source: USER_SERVICE_SOURCE,
    type: "UserRegistered",
    subject: user.userId,
    correlationid: user.correlationId,
    data: { userId: user.userId, name: user.name, email: user.email },
  });
  return {
    user,
    created,
    event: { topic: USERS_TOPIC, id, seq: published.seq, duplicate: published.duplicate },
  };
}
