import { topicDirectory } from "../../durable-objects/topic-directory.ts";
import type { DeadLetterRef } from "../../protocol/dead-letter-id.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { Env } from "../../runtime/env.ts";
import { logLine } from "../../runtime/log.ts";
import { topicStub } from "../topic-param.ts";

export type SubscriptionRef = Extract<DeadLetterRef, { kind: "subscription" }>;

/** Topic Durable Objects asked at once when listing every topic's dead letters. */
const FAN_OUT = 16;
const DIRECTORY_PAGE = 1000;

/** A topic's subscription dead letters (one subscription's, when named); none when it has no such subscription. */
async function topicDeadLetters(env: Env, topic: string, subscription?: string): Promise<DeadLetter[]> {
  const result = await topicStub(env, topic).listDeadLetters(topic, subscription);
  return result.ok ? result.deadLetters : [];
}

/**
 * Subscription dead letters live in their topic's Durable Object. With no topic filter every
 * topic in the directory that `inScope` accepts is asked, a few at a time: filter by topic where
 * there are many topics.
 */
export async function listSubscriptionDeadLetters(
  env: Env,
  filter: { topic?: string; subscription?: string },
  inScope: (topic: string) => boolean,
): Promise<DeadLetter[]> {
  if (filter.topic !== undefined) return topicDeadLetters(env, filter.topic, filter.subscription);
  const found: DeadLetter[] = [];
  let after = "";
  for (;;) {
    const listed = await topicDirectory(env).list(after, DIRECTORY_PAGE);
    const topics = listed.filter(inScope);
    for (let i = 0; i < topics.length; i += FAN_OUT) {
      const lists = await Promise.all(
        topics.slice(i, i + FAN_OUT).map((topic) => topicDeadLetters(env, topic, filter.subscription)),
      );
      found.push(...lists.flat());
    }
    if (listed.length < DIRECTORY_PAGE) return found;
    after = listed[listed.length - 1];
  }
}

export async function getSubscriptionDeadLetter(env: Env, ref: SubscriptionRef): Promise<DeadLetter | null> {
  const found = await topicDeadLetters(env, ref.topic, ref.subscription);
  return found.find((d) => d.seq === ref.seq) ?? null;
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
    const present = new Set((await topicDeadLetters(env, topic, subscription)).map((d) => d.seq));
    missing.push(
      ...seqs
        .filter((seq) => !present.has(seq))
        .map((seq) => ({ kind: "subscription" as const, topic, subscription, seq })),
    );
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
