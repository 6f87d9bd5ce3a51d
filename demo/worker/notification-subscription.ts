import { NOTIFICATION_SUBSCRIPTION, USERS_TOPIC } from "../../protocol/demo.ts";
import type { Env } from "../../runtime/env.ts";
import { topicStub } from "../topic-param.ts";

/**
 * Makes sure the durable subscription that feeds the Notification Service exists: every
 * `UserRegistered` of the users topic goes to the delivery queue, whose consumer is the
 * Notification Service. An existing subscription is left as it is (an operator may have paused
 * or changed it); a new one starts at the oldest event, so no signup is missed.
 */
export async function ensureNotificationSubscription(env: Env): Promise<void> {
  const stub = topicStub(env, USERS_TOPIC);
  const existing = await stub.getSubscription(USERS_TOPIC, NOTIFICATION_SUBSCRIPTION);
  if (existing.ok) return;
  const result = await stub.putSubscription(USERS_TOPIC, NOTIFICATION_SUBSCRIPTION, {
    target: { type: "queue", queue: "DELIVERY_QUEUE" },
    types: ["UserRegistered"],
    start: "earliest",
    retry: { maxAttempts: 10, firstDelayMs: 1_000, maxDelayMs: 60_000 },
    onExhausted: "dead-letter",
    batchSize: 10,
  });
  if (!result.ok) throw new Error(`cannot create subscription ${NOTIFICATION_SUBSCRIPTION}: ${result.message}`);
}
