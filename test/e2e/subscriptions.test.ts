import { afterAll, beforeAll, expect, it } from "vitest";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { PutSubscriptionResponse, SubscriptionView } from "../../protocol/subscriptions.ts";
import { ADMIN_AUTH } from "../support/credentials.ts";
import { LocalServer } from "../support/local-server.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

const server = new LocalServer();
const receiver = new WebhookReceiver();
beforeAll(async () => {
  await receiver.start();
  await server.start();
});
afterAll(async () => {
  await server.dispose();
  await receiver.stop();
});

// Real alarms on a real server: retries are short so the journey takes seconds.
const retry = { maxAttempts: 30, firstDelayMs: 50, maxDelayMs: 300 };

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? ADMIN_AUTH : { "content-type": "application/json", ...ADMIN_AUTH },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function publish(topic: string, from: number, count: number): Promise<void> {
  const events = Array.from({ length: count }, (_, i) => ({
    id: `evt-${from + i}`,
    source: "e2e-subscriptions",
    specversion: "1.0",
    type: "OrderPlaced",
    data: { n: from + i },
  }));
  const res = await call("POST", `/v1/topics/${topic}/events`, events);
  expect(res.status).toBe(201);
}

async function subscribe(topic: string, name: string, body: unknown): Promise<PutSubscriptionResponse> {
  const res = await call("PUT", `/v1/topics/${topic}/subscriptions/${name}`, body);
  expect(res.status).toBe(201);
  return res.json();
}

const view = async (topic: string, name: string): Promise<SubscriptionView> =>
  (await call("GET", `/v1/topics/${topic}/subscriptions/${name}`)).json();

const deadLetters = async (topic: string, name: string): Promise<DeadLetter[]> =>
  (
    (await (await call("GET", `/v1/topics/${topic}/subscriptions/${name}/dead-letters`)).json()) as {
      deadLetters: DeadLetter[];
    }
  ).deadLetters;

/** Polls what the receiver or the API shows until it holds; the server's own alarms do the work. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

it("delivers every event once, in order, through a stretch of failures, each verified by standardwebhooks", async () => {
  const topic = "e2e-orders";
  const url = receiver.endpoint("orders");
  const created = await subscribe(topic, "fulfilment", { target: { type: "webhook", url }, retry });
  expect(created.secret).toMatch(/^whsec_/);
  // The receiver verifies every request with the secret the mesh generated, and first fails 6.
  receiver.update("orders", { secret: created.secret, failNext: 6 });

  for (let from = 1; from <= 20; from += 5) await publish(topic, from, 5);
  await eventually(() => receiver.acceptedSeqs("orders").length >= 20, "20 events are accepted");

  expect(receiver.acceptedSeqs("orders")).toEqual(range(1, 20));
  const requests = receiver.requests("orders");
  expect(requests.filter((r) => r.status === 503)).toHaveLength(6);
  expect(requests.every((r) => r.verified)).toBe(true);
  // Retries of a delivery carry the id of the first try: a receiver dedups on webhook-id.
  const failedIds = new Set(requests.filter((r) => r.status !== 200).map((r) => r.webhookId));
  expect(failedIds).toEqual(new Set([`${topic}:fulfilment:1`]));
  await eventually(async () => (await view(topic, "fulfilment")).lag === 0, "the cursor reaches the head");
  expect(await view(topic, "fulfilment")).toMatchObject({ cursor: 20, head: 20, attempts: 0, delivered: 20 });
});

it("dead-letters events that keep failing, moves on, and a redrive delivers them", async () => {
  const topic = "e2e-billing";
  const url = receiver.endpoint("billing", { failSeqs: [3, 4] });
  await subscribe(topic, "invoices", {
    target: { type: "webhook", url },
    retry: { maxAttempts: 3, firstDelayMs: 20, maxDelayMs: 100 },
  });
  await publish(topic, 1, 6);
  await eventually(() => receiver.acceptedSeqs("billing").includes(6), "event 6 is accepted");
  expect(receiver.acceptedSeqs("billing")).toEqual([1, 2, 5, 6]);
  const dead = await deadLetters(topic, "invoices");
  expect(dead.map((d) => [d.id, d.seq, d.attempts])).toEqual([
    [`sub:${topic}:invoices:3`, 3, 3],
    [`sub:${topic}:invoices:4`, 4, 3],
  ]);
  expect(dead[0].lastError).toMatch(/^HTTP 503/);

  receiver.update("billing", { failSeqs: [] });
  const redrive = await call("POST", `/v1/topics/${topic}/subscriptions/invoices/dead-letters/redrive`);
  expect(redrive.status).toBe(202);
  expect(await redrive.json()).toEqual({ redriven: [3, 4] });
  await eventually(async () => (await deadLetters(topic, "invoices")).length === 0, "the dead letters are gone");
  expect(receiver.acceptedSeqs("billing")).toEqual([1, 2, 5, 6, 3, 4]);
});

it("keeps retrying across a server restart and delivers once the target recovers", async () => {
  const topic = "e2e-restart";
  const url = receiver.endpoint("restart", { failAll: true });
  await subscribe(topic, "ledger", {
    // A delivery cut by the restart is sent again once its lease (timeout + 5 s) runs out.
    target: { type: "webhook", url, timeoutMs: 2000 },
    retry: { maxAttempts: 50, firstDelayMs: 200, maxDelayMs: 500 },
  });
  await publish(topic, 1, 3);
  await eventually(async () => (await view(topic, "ledger")).attempts >= 2, "two attempts have failed");

  await server.restart();
  receiver.update("restart", { failAll: false });
  await eventually(() => receiver.acceptedSeqs("restart").length >= 3, "all events are accepted after the restart");
  expect(receiver.acceptedSeqs("restart")).toEqual([1, 2, 3]);
});
