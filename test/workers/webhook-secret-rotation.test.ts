import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { generateWebhookSecret } from "../../durable-objects/webhook-sender.ts";
import type { RotateSecretResponse, SubscriptionView } from "../../protocol/subscriptions.ts";
import { jsonInit, request, topicStub } from "./topic-client.ts";
import { ReceiverEndpoint } from "./webhook-receiver-client.ts";

/**
 * Rotating a webhook's secret without downtime: during the grace the mesh signs with both secrets
 * (Standard Webhooks allows several signatures), so a receiver verifies with either; after it,
 * only the new one signs.
 */
const DAY = 86_400_000;
const uniqueTopic = (name: string) => `rotate-${name}-${crypto.randomUUID().slice(0, 8)}`;

let published = 0;
async function publishOne(topic: string): Promise<void> {
  published += 1;
  const res = await request(`/v1/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ id: `r${published}`, source: "/rotation", type: "Thing", specversion: "1.0" }),
  });
  expect(res.status).toBe(201);
}

/**
 * Publishes one event and delivers it (firing the alarm until the receiver has had one more
 * request), then says whether the receiver verified it. An unverified request's body is not read,
 * so requests are counted rather than matched by seq.
 */
async function nextDeliveryVerified(topic: string, hook: ReceiverEndpoint): Promise<boolean> {
  const before = (await hook.requests()).length;
  await publishOne(topic);
  for (let run = 0; run < 20; run++) {
    const requests = await hook.requests();
    if (requests.length > before) return requests[before].verified;
    await runDurableObjectAlarm(topicStub(topic));
  }
  throw new Error("the event was never delivered");
}

const rotate = async (topic: string, body?: unknown) =>
  request(`/v1/topics/${topic}/subscriptions/hook/rotate-secret`, jsonInit("POST", body));

describe("rotating a webhook's secret", () => {
  it("signs with both secrets through the grace, then with the new one only", async () => {
    const topic = uniqueTopic("grace");
    const old = generateWebhookSecret();
    const hook = await ReceiverEndpoint.create("rotation", { secret: old });
    // One attempt per delivery: a delivery the receiver refuses is not retried in the background.
    const put = await request(
      `/v1/topics/${topic}/subscriptions/hook`,
      jsonInit("PUT", {
        target: { type: "webhook", url: hook.url, secret: old },
        retry: { maxAttempts: 1 },
        onExhausted: "dead-letter",
      }),
    );
    expect(put.status).toBe(201);
    expect(await nextDeliveryVerified(topic, hook)).toBe(true);

    const res = await rotate(topic);
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as RotateSecretResponse;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(Date.parse(rotated.previousSecretValidUntil ?? "")).toBeGreaterThan(Date.now() + DAY - 60_000);

    // Receivers still on the old secret, and those already on the new one, both verify.
    expect(await nextDeliveryVerified(topic, hook)).toBe(true);
    await hook.update({ secret: rotated.secret });
    expect(await nextDeliveryVerified(topic, hook)).toBe(true);

    // After the grace only the new secret signs. (A one-second grace, waited out on the real
    // clock: the receiver checks each request's timestamp against its own.)
    const next = (await (await rotate(topic, { graceSeconds: 1 })).json()) as RotateSecretResponse;
    expect(await nextDeliveryVerified(topic, hook)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await nextDeliveryVerified(topic, hook)).toBe(false);
    await hook.update({ secret: next.secret });
    expect(await nextDeliveryVerified(topic, hook)).toBe(true);
  });

  it("takes a given secret without showing it, drops the old one at once with graceSeconds 0, and a PUT with a new secret rotates too", async () => {
    const topic = uniqueTopic("given");
    const first = generateWebhookSecret();
    const hook = await ReceiverEndpoint.create("rotation-given", { secret: first });
    await request(
      `/v1/topics/${topic}/subscriptions/hook`,
      jsonInit("PUT", { target: { type: "webhook", url: hook.url, secret: first }, retry: { maxAttempts: 1 } }),
    );
    const second = generateWebhookSecret();
    const immediate = (await (await rotate(topic, { secret: second, graceSeconds: 0 })).json()) as RotateSecretResponse;
    expect(immediate).not.toHaveProperty("secret");
    expect(immediate.previousSecretValidUntil).toBeNull();
    expect(await nextDeliveryVerified(topic, hook)).toBe(false);

    const third = generateWebhookSecret();
    const updated = await request(
      `/v1/topics/${topic}/subscriptions/hook`,
      jsonInit("PUT", { target: { type: "webhook", url: hook.url, secret: third }, retry: { maxAttempts: 1 } }),
    );
    const view = (await updated.json()) as SubscriptionView;
    expect(view.previousSecretValidUntil).not.toBeNull();
    await hook.update({ secret: second });
    expect(await nextDeliveryVerified(topic, hook)).toBe(true);
  });

  it("refuses a queue subscription, the current secret, and a bad body, changing nothing", async () => {
    const topic = uniqueTopic("refusals");
    await request(
      `/v1/topics/${topic}/subscriptions/hook`,
      jsonInit("PUT", { target: { type: "queue", queue: "DELIVERY_QUEUE" } }),
    );
    const queue = await rotate(topic);
    expect(queue.status).toBe(400);
    expect(await queue.json()).toMatchObject({
      error: { code: "invalid_body", message: expect.stringContaining("queue") },
    });

    const secret = generateWebhookSecret();
    const hook = await ReceiverEndpoint.create("rotation-refusals");
    await request(
      `/v1/topics/${topic}/subscriptions/hook`,
      jsonInit("PUT", { target: { type: "webhook", url: hook.url, secret } }),
    );
    const same = await rotate(topic, { secret });
    expect(same.status).toBe(400);
    const bad = await rotate(topic, { secret: "not-a-secret", graceSeconds: -1 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_body", field: "secret" } });
    const view = (await (await request(`/v1/topics/${topic}/subscriptions/hook`)).json()) as SubscriptionView;
    expect(view.previousSecretValidUntil).toBeNull();
  });
});
