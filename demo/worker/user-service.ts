import type { HistoryPage } from "event-mesh/client";
import * as v from "valibot";
import {
  type MeAnswer,
  type Signup,
  type SignupAnswer,
  type StoredUserRegistered,
  StoredUserRegisteredSchema,
  USERS_TOPIC,
} from "../api-shapes.ts";
import { userStore } from "../durable-objects/user-store.ts";
import { type DemoEnv, requireSecret } from "./env.ts";
import { DemoError } from "./errors.ts";
import { type MeshLink, meshRefusal } from "./mesh-link.ts";
import { ensureNotificationSubscription } from "./notification-subscription.ts";

/** The CloudEvents `source` of everything the User Service publishes. */
export const USER_SERVICE_SOURCE = "/demo/user-service";

/**
 * The User Service: stores the user for the visitor, then publishes `UserRegistered` with its own
 * key. It knows nothing of notifications beyond making sure their subscription exists. The event
 * id is derived from the user, so a double submit publishes the same event again and the log
 * answers `duplicate: true` instead of storing a second one.
 */
export async function registerUser(
  mesh: MeshLink,
  env: DemoEnv,
  visitor: string,
  signup: Signup,
): Promise<SignupAnswer> {
  const key = requireSecret(env, "DEMO_USERS_KEY");
  const outcome = await userStore(env).register(visitor, signup);
  if (!outcome.ok) {
    throw new DemoError("email_taken", "this email address is already registered from another browser");
  }
  const { user, created } = outcome;
  // Before the first publish, so a new subscription's cursor starts before this user's event.
  await ensureNotificationSubscription(mesh, key);
  const id = registrationId(user.userId);
  const { seq, duplicate } = await mesh.publish(key, USER_SERVICE_SOURCE, USERS_TOPIC, {
    id,
    type: "UserRegistered",
    subject: user.userId,
    correlationid: user.correlationId,
    data: { userId: user.userId, name: user.name, email: user.email },
  });
  await userStore(env).recordRegistration(user.userId, seq);
  const registered = await readRegistered(mesh, key, seq, id);
  if (!registered) throw new Error(`the UserRegistered event ${id} (users #${seq}) cannot be read back`);
  return { user, created, duplicate, registered };
}

/** The visitor's users, and the newest one's registration, so a reloaded page shows its flow again. */
export async function visitorUsers(mesh: MeshLink, env: DemoEnv, visitor: string): Promise<MeAnswer> {
  const store = userStore(env);
  const [users, latest] = await Promise.all([store.usersOf(visitor), store.latestRegistered(visitor)]);
  if (!latest) return { users, current: null };
  const key = requireSecret(env, "DEMO_USERS_KEY");
  const registered = await readRegistered(mesh, key, latest.seq, registrationId(latest.user.userId));
  // Gone after the users topic's retention: the visitor still has its users, only the flow has no start.
  return { users, current: registered ? { user: latest.user, registered } : null };
}

/** The id of a user's `UserRegistered` event: one per user, however often it is published. */
function registrationId(userId: string): string {
  return `user-registered-${userId}`;
}

/**
 * Reads the stored event back, exactly, through the history API, so the page shows what the log
 * holds; null once retention has removed it.
 */
async function readRegistered(
  mesh: MeshLink,
  key: string,
  seq: number,
  id: string,
): Promise<StoredUserRegistered | null> {
  const res = await mesh.request(key, "GET", `/v1/topics/${USERS_TOPIC}/events?after=${seq - 1}&limit=1`);
  if (res.status === 410) return null;
  if (!res.ok) throw await meshRefusal("read the UserRegistered event back", res);
  const page = await res.json<HistoryPage>();
  if (page.events.length === 0) return null;
  const stored = v.safeParse(StoredUserRegisteredSchema, page.events[0]);
  if (!stored.success || stored.output.id !== id || stored.output.seq !== seq) {
    throw new Error(`users #${seq} is not the UserRegistered event ${id}`);
  }
  return stored.output;
}
