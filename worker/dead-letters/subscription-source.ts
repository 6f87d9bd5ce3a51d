import {
  type DeadLetterKey,
  type DeadLetterPageRequest,
  FIRST_KEY,
} from "../../durable-objects/subscription-dead-letters.ts";
import { topicDirectory } from "../../durable-objects/topic-directory.ts";
import type { DeadLetterRef } from "../../protocol/dead-letter-id.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { Env } from "../../runtime/env.ts";
import { logLine } from "../../runtime/log.ts";
import { topicStub } from "../topic-param.ts";
import type { SubscriptionPosition } from "./paging.ts";

export type SubscriptionRef = Extract<DeadLetterRef, { kind: "subscription" }>;

/** Topic Durable Objects asked at once when a page runs on through topics. */
const FAN_OUT = 16;
const DIRECTORY_PAGE = 1000;

/** Up to `limit` of a topic's subscription dead letters after `after`; none when it has no such subscription. */
async function topicPage(env: Env, topic: string, request: DeadLetterPageRequest): Promise<DeadLetter[]> {
  const result = await topicStub(env, topic).listDeadLetters(topic, request);
  return result.ok ? result.deadLetters : [];
}

/**
 * Up to `limit` subscription dead letters after `after`, in listing order: topics in name order
 * (the directory's), each by subscription then seq. Subscription dead letters live in their
 * topic's Durable Object: topics from the cursor's on are asked a few at a time, each for at most
 * what the page still lacks, and the walk stops once the page is full. Without a topic filter,
 * only topics that `inScope` accepts are asked.
 */
export async function subscriptionDeadLetterPage(
  env: Env,
  filter: { topic?: string; subscription?: string },
  after: SubscriptionPosition | null,
  limit: number,
  inScope: (topic: string) => boolean,
): Promise<DeadLetter[]> {
  const { subscription } = filter;
  const start = (topic: string): DeadLetterKey =>
    after?.topic === topic ? { subscription: after.subscription, seq: after.seq } : FIRST_KEY;
  if (filter.topic !== undefined) {
    // A topic before the cursor's was passed already.
    if (after !== null && filter.topic < after.topic) return [];
    return topicPage(env, filter.topic, { subscription, after: start(filter.topic), limit });
  }
  const found: DeadLetter[] = [];
  // The previous page may have ended inside the cursor's topic.
  if (after !== null && inScope(after.topic)) {
    found.push(...(await topicPage(env, after.topic, { subscription, after: start(after.topic), limit })));
  }
  let from = after?.topic ?? "";
  while (found.length < limit) {
    const listed = await topicDirectory(env).list(from, DIRECTORY_PAGE);
    const topics = listed.filter(inScope);
    for (let i = 0; i < topics.length && found.length < limit; i += FAN_OUT) {
      const request = { subscription, after: FIRST_KEY, limit: limit - found.length };
      const pages = await Promise.all(topics.slice(i, i + FAN_OUT).map((topic) => topicPage(env, topic, request)));
      found.push(...pages.flat());
    }
    if (listed.length < DIRECTORY_PAGE) break;
    from = listed[listed.length - 1];
  }
  return found.slice(0, limit);
}

export async function getSubscriptionDeadLetter(env: Env, ref: SubscriptionRef): Promise<DeadLetter | null> {
  const after = { subscription: ref.subscription, seq: ref.seq - 1 };
  const [found] = await topicPage(env, ref.topic, { subscription: ref.subscription, after, limit: 1 });
  return found?.seq === ref.seq ? found : null;
}

export async function deleteSubscriptionDeadLetter(env: Env, ref: SubscriptionRef): Promise<boolean> {
  return (await topicStub(env, ref.topic).deleteDeadLetters(ref.topic, ref.subscription, [ref.seq])).ok;
}

/** Refs grouped by the subscription that holds them. */
function bySubscription(refs: SubscriptionRef[]): Map<string, { topic: string; subscription: string; seqs: number[] }> {
  const groups = new Map<string, { topic: string; subscription: string; seqs: number[] }>();
  for (const ref of refs) {
    const key = `${ref.topic}\n${ref.subscription}`;
    const group = groups.get(key) ?? { topic: ref.topic, subscription: ref.subscription, seqs: [] };
    group.seqs.push(ref.seq);
    groups.set(key, group);
  }
  return groups;
}

/** The refs that name no existing subscription dead letter. */
export async function missingSubscriptionDeadLetters(env: Env, refs: SubscriptionRef[]): Promise<SubscriptionRef[]> {
  const missing: SubscriptionRef[] = [];
  for (const { topic, subscription, seqs } of bySubscription(refs).values()) {
    const absent = await topicStub(env, topic).missingDeadLetters(subscription, seqs);
    missing.push(...absent.map((seq) => ({ kind: "subscription" as const, topic, subscription, seq })));
  }
  return missing;
}

/**
 * Asks each subscription to deliver its named dead letters again; its topic's alarm delivers them
 * in seq order with the subscription's retry policy, and a delivered one leaves the list.
 */
export async function redriveSubscriptionDeadLetters(env: Env, refs: SubscriptionRef[]): Promise<SubscriptionRef[]> {
  const missing: SubscriptionRef[] = [];
  for (const { topic, subscription, seqs } of bySubscription(refs).values()) {
    const result = await topicStub(env, topic).redriveDeadLetters(topic, subscription, seqs);
    if (result.ok) {
      logLine("subscription dead letter redrive", { topic, subscription, seqs: result.redriven });
    } else {
      // Deleted between the check and the redrive.
      missing.push(...seqs.map((seq) => ({ kind: "subscription" as const, topic, subscription, seq })));
    }
  }
  return missing;
}
