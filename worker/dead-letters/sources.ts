import type { DeadLetterListQuery } from "../../protocol/dead-letter-api.ts";
import { type DeadLetterRef, formatDeadLetterId } from "../../protocol/dead-letter-id.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { Env } from "../../runtime/env.ts";
import type { TopicScope } from "../auth/access.ts";
import {
  deleteQueueDeadLetter,
  getQueueDeadLetter,
  listQueueDeadLetters,
  type QueueRef,
  queueRedrives,
  sendQueueRedrives,
} from "./queue-source.ts";
import {
  deleteSubscriptionDeadLetter,
  getSubscriptionDeadLetter,
  listSubscriptionDeadLetters,
  missingSubscriptionDeadLetters,
  redriveSubscriptionDeadLetters,
  type SubscriptionRef,
} from "./subscription-source.ts";

/** Queue dead letters read for a credential that administers only some topics, before filtering. */
const SCOPED_QUEUE_READ = 1000;

/**
 * The dead letters of both sources in the topics the scope covers, newest failure first (then by
 * id), at most `limit`. A subscription filter selects subscription dead letters only, a consumer
 * filter queue ones only.
 */
export async function listDeadLetters(
  env: Env,
  query: DeadLetterListQuery,
  limit: number,
  scope: TopicScope,
): Promise<DeadLetter[]> {
  const wantQueue = query.kind !== "subscription" && query.subscription === undefined;
  const wantSubscription = query.kind !== "queue" && query.consumer === undefined;
  const queueFilter = { topic: query.topic, consumer: query.consumer };
  const [queue, subscription] = await Promise.all([
    wantQueue ? listQueueDeadLetters(env, queueFilter, scope.all ? limit : SCOPED_QUEUE_READ) : [],
    wantSubscription
      ? listSubscriptionDeadLetters(env, { topic: query.topic, subscription: query.subscription }, scope.covers)
      : [],
  ]);
  return [...queue.filter((d) => scope.covers(d.topic)), ...subscription]
    .sort((a, b) => b.lastFailureAt.localeCompare(a.lastFailureAt) || a.id.localeCompare(b.id))
    .slice(0, limit);
}

export async function getDeadLetter(env: Env, ref: DeadLetterRef): Promise<DeadLetter | null> {
  return ref.kind === "queue" ? getQueueDeadLetter(env, ref) : getSubscriptionDeadLetter(env, ref);
}

export async function deleteDeadLetter(env: Env, ref: DeadLetterRef): Promise<boolean> {
  return ref.kind === "queue" ? deleteQueueDeadLetter(env, ref) : deleteSubscriptionDeadLetter(env, ref);
}

/**
 * Sends each dead letter again to where it failed: a queue one to its consumer through the
 * delivery queue, a subscription one through its subscription. Every ref is looked up first: if
 * any does not exist, nothing is redriven and the missing ids are returned.
 */
export async function redriveDeadLetters(env: Env, refs: DeadLetterRef[]): Promise<string[]> {
  const queueRefs = refs.filter((r): r is QueueRef => r.kind === "queue");
  const subscriptionRefs = refs.filter((r): r is SubscriptionRef => r.kind === "subscription");
  const [queue, missingSubscriptions] = await Promise.all([
    queueRedrives(env, queueRefs),
    missingSubscriptionDeadLetters(env, subscriptionRefs),
  ]);
  const missing = [...queue.missing, ...missingSubscriptions];
  if (missing.length > 0) return missing.map(formatDeadLetterId);
  await sendQueueRedrives(env, queue.messages);
  return (await redriveSubscriptionDeadLetters(env, subscriptionRefs)).map(formatDeadLetterId);
}
