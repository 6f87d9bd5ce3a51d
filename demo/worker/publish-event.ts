import type { JsonObject } from "../../protocol/json.ts";
import type { PublishedEvent } from "../../protocol/responses.ts";
import { readConfig } from "../../runtime/config.ts";
import type { Env } from "../../runtime/env.ts";
import { parsePublishRequest } from "../publish-parser.ts";
import { topicStub } from "../topic-param.ts";

/**
 * Publishes one CloudEvent from inside the Worker (the demo services). It takes the same checks
 * as `POST /v1/topics/:topic/events` (envelope, size, catalog schema), then goes to the topic's
 * Durable Object, so the log deduplicates a repeated id exactly as for an outside publisher.
 */
export async function publishEvent(env: Env, topic: string, event: JsonObject): Promise<PublishedEvent> {
  const [checked] = parsePublishRequest(
    { contentType: "application/cloudevents+json", headers: new Headers(), body: JSON.stringify(event) },
    readConfig(env),
  );
  const result = await topicStub(env, topic).publish(topic, [checked]);
  return result.events[0];
}
