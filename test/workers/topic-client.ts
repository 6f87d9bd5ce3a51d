import { env } from "cloudflare:workers";
import type { JsonObject } from "../../protocol/json.ts";
import type { HistoryPage, PublishResponse, TopicInfo } from "../../protocol/responses.ts";
import type { SubscriptionView } from "../../protocol/subscriptions.ts";
import { meshFetch } from "./support/mesh-fetch.ts";

/** Requests to the real Worker (exports.default) for the topic-log tests: one place that knows the routes. */
export const BASE = "http://mesh";

export function request(path: string, init: RequestInit = {}): Promise<Response> {
  return meshFetch(`${BASE}${path}`, init);
}

/** A request with a JSON body (none when `body` is undefined). */
export function jsonInit(method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** A valid CloudEvent of an uncatalogued type. */
export function event(id: string, extra: Record<string, unknown> = {}): JsonObject {
  return { id, source: "/tests", type: "TestHappened", specversion: "1.0", ...extra } as JsonObject;
}

export function post(
  topic: string,
  body: unknown,
  contentType = "application/json",
  headers: Record<string, string> = {},
): Promise<Response> {
  return request(`/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": contentType, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Publishes and expects success; returns the answer. */
export async function publish(topic: string, body: unknown): Promise<PublishResponse> {
  const res = await post(topic, body);
  if (res.status !== 201 && res.status !== 200) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Publishes `count` fresh events of type `Thing` from `source`, in batches of at most 100. */
export async function publishCount(topic: string, count: number, source = "/tests"): Promise<void> {
  for (let from = 0; from < count; from += 100) {
    const batch = Array.from({ length: Math.min(100, count - from) }, () => ({
      id: crypto.randomUUID(),
      source,
      specversion: "1.0",
      type: "Thing",
    }));
    await publish(topic, batch);
  }
}

/** A durable subscription's view, as `GET …/subscriptions/:name` answers it. */
export async function subscriptionView(topic: string, name: string): Promise<SubscriptionView> {
  const res = await request(`/v1/topics/${topic}/subscriptions/${name}`);
  if (res.status !== 200) throw new Error(`subscription view failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function info(topic: string): Promise<TopicInfo> {
  const res = await request(`/v1/topics/${topic}`);
  if (res.status !== 200) throw new Error(`info failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function history(topic: string, query = ""): Promise<HistoryPage> {
  const res = await request(`/v1/topics/${topic}/events${query ? `?${query}` : ""}`);
  if (res.status !== 200) throw new Error(`history failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Every retained event of a topic, paging with the largest page. */
export async function allEvents(topic: string): Promise<JsonObject[]> {
  const events: JsonObject[] = [];
  let after = (await info(topic)).oldest - 1;
  for (;;) {
    const page = await history(topic, `after=${after}&limit=1000`);
    events.push(...page.events);
    if (!page.more) return events;
    after = page.next;
  }
}

export function topicStub(topic: string) {
  return env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));
}

/** A topic name no other test uses. */
export function freshTopic(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}
