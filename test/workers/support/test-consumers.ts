import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect, type MockInstance, vi } from "vitest";
import type { QueueMessage } from "../../../protocol/queue-message.ts";
import { defineConsumer } from "../../../worker/consumers/define-consumer.ts";
import { testCatalog } from "../../support/test-catalog.ts";

/**
 * Test consumers of the pool's Worker (pool-worker.ts): the tests run in the same isolate as the
 * Worker's queue() handler, so the real queue path calls these handlers. Each counts its calls
 * and its effects per event id, and fails as often as a test tells it to.
 */
const calls = new Map<string, number>();
const effects = new Map<string, number>();
const failuresLeft = new Map<string, number>();

const key = (consumer: string, eventId: string) => `${consumer}/${eventId}`;

function testConsumer(name: string) {
  return defineConsumer(testCatalog, {
    name,
    types: ["GreetingSent"],
    async handler(event) {
      const k = key(name, event.id);
      const call = (calls.get(k) ?? 0) + 1;
      calls.set(k, call);
      const left = failuresLeft.get(k) ?? 0;
      if (left > 0) {
        failuresLeft.set(k, left - 1);
        throw new Error(`simulated failure on call ${call} of ${name} for ${event.id}`);
      }
      effects.set(k, (effects.get(k) ?? 0) + 1);
    },
  });
}

export const MAILER = "test-mailer";
export const AUDIT = "test-audit";
export const testConsumers = [testConsumer(MAILER), testConsumer(AUDIT)];

/** The next `times` calls of `consumer` for this event throw (Infinity: until `fix`). */
export function failNext(consumer: string, eventId: string, times: number): void {
  failuresLeft.set(key(consumer, eventId), times);
}

export function fix(consumer: string, eventId: string): void {
  failuresLeft.delete(key(consumer, eventId));
}

export function callsOf(consumer: string, eventId: string): number {
  return calls.get(key(consumer, eventId)) ?? 0;
}

export function effectsOf(consumer: string, eventId: string): number {
  return effects.get(key(consumer, eventId)) ?? 0;
}

let counter = 0;
const hex = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");

/** A queue message as a queue-target subscription sends it, for a fresh GreetingSent event. */
export function welcomeMessage(topic = "queue-tests", type = "GreetingSent"): QueueMessage {
  counter += 1;
  const id = `evt-${hex(6)}`;
  return {
    topic,
    seq: counter,
    subscription: "to-queue",
    event: {
      specversion: "1.0",
      id,
      source: "/test/queue",
      type,
      time: new Date().toISOString(),
      seq: counter,
      traceparent: `00-${hex(16)}-${hex(8)}-01`,
      data: { userId: `u-${id}`, email: "ada@example.com", emailId: `m-${id}`, subject: "Welcome" },
    },
    traceparent: `00-${hex(16)}-${hex(8)}-01`,
  };
}

/** The structured log lines written during the current test. */
export interface LogCapture {
  lines(): Record<string, unknown>[];
  /** Log lines with this `msg` about this event (and consumer, when given). */
  about(msg: string, eventId: string, consumer?: string): Record<string, unknown>[];
}

/** Spies on console.log around each test of the calling file; the capture reads the current test's lines. */
export function captureLogsOfEachTest(): LogCapture {
  let spy: MockInstance<typeof console.log> | undefined;
  beforeEach(() => {
    spy = vi.spyOn(console, "log");
  });
  afterEach(() => spy?.mockRestore());
  const capture: LogCapture = {
    lines: () =>
      (spy?.mock.calls ?? []).flatMap(([text]) => {
        try {
          const line = JSON.parse(String(text));
          return typeof line === "object" && line !== null ? [line] : [];
        } catch {
          return [];
        }
      }),
    about: (msg, eventId, consumer) =>
      capture
        .lines()
        .filter((l) => l.msg === msg && l.eventId === eventId && (consumer === undefined || l.consumer === consumer)),
  };
  return capture;
}

/**
 * Waits until every delivery already queued (retries with no delay included) has been handled:
 * two barrier messages in turn, each of which no consumer takes. Batches are flushed one after
 * another, so once the second barrier is dispatched, the batch that held the first has finished.
 */
export async function drainQueue(logs: LogCapture): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const barrier = welcomeMessage("queue-tests", "test.Barrier");
    await env.DELIVERY_QUEUE.send(barrier);
    await vi.waitFor(() => expect(logs.about("queue message has no consumer", barrier.event.id)).toHaveLength(1), {
      timeout: 10_000,
    });
  }
}
