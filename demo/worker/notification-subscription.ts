import type { SubscriptionConfigInput } from "event-mesh/client";
import { NOTIFICATION_SUBSCRIPTION, USERS_TOPIC } from "../api-shapes.ts";
import type { MeshLink } from "./mesh-link.ts";
import { meshRefusal } from "./mesh-link.ts";

const PATH = `/v1/topics/${USERS_TOPIC}/subscriptions/${NOTIFICATION_SUBSCRIPTION}`;

/** Every `UserRegistered` of the users topic goes to the delivery queue, whose consumer is the Notification Service. */
const CONFIG: SubscriptionConfigInput = {
  target: { type: "queue", queue: "DELIVERY_QUEUE" },
  types: ["UserRegistered"],
  // A new subscription starts at the oldest event, so no signup is missed.
  start: "earliest",
  retry: { maxAttempts: 10, firstDelayMs: 1_000, maxDelayMs: 60_000 },
  onExhausted: "dead-letter",
  batchSize: 10,
};

/**
 * Makes sure the durable subscription that feeds the Notification Service exists, through the
 * mesh's API with the User Service's key (admin on `users`). An existing one is left as it is:
 * an operator may have paused or changed it.
 */
export async function ensureNotificationSubscription(mesh: MeshLink, usersKey: string): Promise<void> {
  const existing = await mesh.request(usersKey, "GET", PATH);
  if (existing.ok) return;
  if (existing.status !== 404) throw await meshRefusal("read the notification subscription", existing);
  const created = await mesh.request(usersKey, "PUT", PATH, CONFIG);
  if (!created.ok) throw await meshRefusal("create the notification subscription", created);
}
