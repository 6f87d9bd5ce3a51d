import { isValidTopicName, TOPIC_NAME_RULE } from "../protocol/topic-name.ts";
import type { Env } from "../runtime/env.ts";
import { MeshError } from "../runtime/mesh-error.ts";

/** Checks a topic name from the URL; throws `invalid_topic` naming the rule. */
export function checkTopic(topic: string | undefined): string {
  if (topic === undefined || !isValidTopicName(topic)) {
    throw new MeshError("invalid_topic", `invalid topic name "${topic ?? ""}": ${TOPIC_NAME_RULE}`, {
      rule: TOPIC_NAME_RULE,
    });
  }
  return topic;
}

/** The topic's Durable Object: one per topic name, the single writer of its log. */
export function topicStub(env: Env, topic: string) {
  return env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));
}
