import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { SubscriptionView } from "../../protocol/subscriptions.ts";
import { adminApi } from "../support/admin-api.ts";
import { type ChaosOutcome, ChaosReceiver } from "../support/chaos-receiver.ts";
import { checkDeliveries, checkLog, seqsUpTo, violationsOf } from "../support/invariants.ts";
import { LocalServer } from "../support/local-server.ts";
import { trackedPublisher } from "../support/parties.ts";
import { runSeed, seededRandom } from "../support/seeded-random.ts";

// Scenario 5 (webhooks): receivers that answer 500, answer slowly, hang past the timeout or drop
// the connection, at random; a few events fail every attempt and become dead letters until a
// redrive. Retries, dead letters and redrive must leave nothing missing and nothing doubled
// after the receiver dedups by seq (webhook-id).
const TIMEOUT_MS = 300;
const rand = seededRandom(runSeed("webhook-faults"));
/** Seqs the receiver refuses on every attempt until `healed`. */
const poisoned = new Set([17, 18, 95]);
let healed = false;

function decide(_endpoint: string, seqs: number[]): ChaosOutcome {
  if (!healed && seqs.some((seq) => poisoned.has(seq))) return rand() < 0.5 ? "error" : "close";
  const dice = rand();
  if (dice < 0.55) return "ok";
  if (dice < 0.65) return "slow";
  if (dice < 0.75) return "timeout";
  if (dice < 0.9) return "error";
  return "close";
}

const server = new LocalServer();
const receiver = new ChaosReceiver({ decide, senderTimeoutMs: TIMEOUT_MS });
beforeAll(async () => {
  await receiver.start();
  await server.start();
});
afterAll(async () => {
  await server.dispose();
  await receiver.stop();
});

const { json: api, readLog } = adminApi(server);

it("delivers every event once after dedup, in order but for redriven dead letters, through random receiver faults", async () => {
  const topic = "chaos.hooks";
  const subscriptions = { single: 1, batched: 10 };
  for (const [name, batchSize] of Object.entries(subscriptions)) {
    await api("PUT", `/v1/topics/${topic}/subscriptions/${name}`, {
      target: { type: "webhook", url: receiver.hookUrl(name), timeoutMs: TIMEOUT_MS },
      start: "earliest",
      batchSize,
      retry: { maxAttempts: 5, firstDelayMs: 20, maxDelayMs: 200 },
    });
  }
  const publisher = trackedPublisher(() => server.url, "/chaos");
  for (let n = 0; n < 20; n++) {
    await publisher.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ type: "Invoice", data: { n: n * 10 + i } })),
    );
  }
  const { head, events } = await readLog(topic);
  const view = (name: string) => api<SubscriptionView>("GET", `/v1/topics/${topic}/subscriptions/${name}`);
  const deadLetters = async (name: string) =>
    (await api<{ deadLetters: DeadLetter[] }>("GET", `/v1/topics/${topic}/subscriptions/${name}/dead-letters`))
      .deadLetters;

  // Every event is either delivered or a dead letter once both cursors reach the head.
  for (const name of Object.keys(subscriptions)) {
    await vi.waitFor(async () => expect((await view(name)).lag, name).toBe(0), { timeout: 90_000 });
  }
  const dead = new Map<string, number[]>();
  for (const name of Object.keys(subscriptions)) {
    dead.set(
      name,
      (await deadLetters(name)).map((d) => d.seq),
    );
    // The poisoned seqs could only end as dead letters (with their batch, when batched).
    for (const seq of poisoned) expect(dead.get(name)).toContain(seq);
  }

  healed = true;
  for (const name of Object.keys(subscriptions)) {
    const redrive = await api<{ redriven: number[] }>(
      "POST",
      `/v1/topics/${topic}/subscriptions/${name}/dead-letters/redrive`,
    );
    expect(redrive.redriven).toEqual(dead.get(name));
  }
  // The receiver keeps failing at random after healing, so a redrive can run out of attempts too:
  // like an operator, redrive what is still there until nothing is.
  for (const name of Object.keys(subscriptions)) {
    await vi.waitFor(
      async () => {
        const left = await deadLetters(name);
        if (left.length > 0) await api("POST", `/v1/topics/${topic}/subscriptions/${name}/dead-letters/redrive`);
        expect(left, name).toEqual([]);
      },
      { timeout: 90_000, interval: 3_000 },
    );
  }

  const counts = (["ok", "slow", "timeout", "error", "close"] as const).map((o) => `${receiver.count(o)} ${o}`);
  console.log(
    `webhook-faults: ${receiver.requests.length} requests (${counts.join(", ")}); dead letters ${[...dead].map(([n, s]) => `${n} ${s.length}`).join(", ")}`,
  );
  const reports = Object.keys(subscriptions).map((name) =>
    checkDeliveries(name, receiver.taken(name), { expected: seqsUpTo(head), lateAllowed: new Set(dead.get(name)) }),
  );
  // Hung requests were retried after the receiver had taken them: the dedup really had work.
  expect(reports.reduce((n, r) => n + r.redelivered, 0)).toBeGreaterThan(0);
  expect(violationsOf(checkLog(topic, head, events), ...reports)).toEqual([]);
});
