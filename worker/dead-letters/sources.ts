import type { DeadLetterListQuery } from "../../protocol/dead-letter-api.ts";
import { type DeadLetterRef, formatDeadLetterId } from "../../protocol/dead-letter-id.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { Env } from "../../runtime/env.ts";
import type { TopicScope } from "../auth/access.ts";
import { type DeadLetterPage, type DeadLetterPosition, pageOf } from "./paging.ts";
import {
  deleteQueueDeadLetter,
  getQueueDeadLetter,
  type QueueRef,
  queueDeadLetterPage,
  queueRedrives,
  sendQueueRedrives,
} from "./queue-source.ts";
import {
  deleteSubscriptionDeadLetter,
  getSubscriptionDeadLetter,
  missingSubscriptionDeadLetters,
  redriveSubscriptionDeadLetters,
  type SubscriptionRef,
  subscriptionDeadLetterPage,
} from "./subscription-source.ts";

/**
 * A page of the dead letters of both sources in the topics the scope covers, in listing order
 * (every subscription one, then every queue one), after the cursor's position. A subscription
 * filter selects subscription dead letters only, a consumer filter queue ones only. Each source
 * reads one page past `limit`, from its key on, so the page knows whether the listing goes on.
 */
export async function listDeadLetters(
  env: Env,
  query: DeadLetterListQuery,
  after: DeadLetterPosition | null,
  limit: number,
  scope: TopicScope,
): Promise<DeadLetterPage> {
  const wantQueue = query.kind !== "subscription" && query.subscription === undefined;
  const wantSubscription = query.kind !== "queue" && query.consumer === undefined;
  const found: DeadLetter[] = [];
  // A queue position is past every subscription dead letter.
  if (wantSubscription && after?.kind !== "queue") {
    const filter = { topic: query.topic, subscription: query.subscription };
    found.push(...(await subscriptionDeadLetterPage(env, filter, after, limit + 1, scope.covers)));
  }
  if (wantQueue && found.length <= limit) {
    const filter = { topic: query.topic, consumer: query.consumer };
    const from = after?.kind === "queue" ? after.n : 0;
    const queue = await queueDeadLetterPage(env, filter, from, limit + 1 - found.length, scope);
    found.push(...queue.deadLetters);
    if (queue.resumeAfter !== null) return { deadLetters: found, next: { kind: "queue", n: queue.resumeAfter } };
  }
  return pageOf(found, limit);
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
