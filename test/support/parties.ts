import WebSocket from "ws";
import { createMeshClient, type MeshClientOptions } from "../../client/mesh-client.ts";
import { createPublisher, type PublishEvent, type RetryOptions } from "../../client/publisher.ts";
import type { Subscription, SubscriptionError } from "../../client/subscription.ts";
import type { SubscriptionState } from "../../client/subscription-state.ts";
import { KEYS } from "./credentials.ts";
import type { Ack } from "./invariants.ts";
import { subscriberToken } from "./subscriber-token.ts";

/**
 * The parties of reliability scenarios, each recording what it saw for the invariant checks:
 * publishers (the SDK) keep every acknowledgement, followers (the live client) every event
 * handed to the app, with states and errors.
 */

/** Client timings for tests: reconnects within a second, heartbeats that notice a dead link in seconds. */
const FAST_CLIENT: Partial<MeshClientOptions> = {
  WebSocket,
  backoff: { firstDelayMs: 50, maxDelayMs: 500 },
  heartbeat: { intervalMs: 1_000, timeoutMs: 4_000 },
  connectionTimeoutMs: 3_000,
};

/** Retries that ride out a server restart of several seconds. */
const PATIENT_RETRY: RetryOptions = { maxAttempts: 200, firstDelayMs: 50, maxDelayMs: 500 };

export interface TrackedPublisher {
  readonly acks: Ack[];
  /** Attempts that got no answer or an error answer, before a retry got through. */
  readonly failedAttempts: { count: number };
  /** Answers saying the event was already stored (a retry after a lost answer). */
  readonly duplicates: { count: number };
  publish(topic: string, events: PublishEvent[]): Promise<void>;
}

/** The publisher SDK with the admin key, recording every acknowledged event. */
export function trackedPublisher(baseUrl: () => string, source: string, retry = PATIENT_RETRY): TrackedPublisher {
  const failedAttempts = { count: 0 };
  const duplicates = { count: 0 };
  const acks: Ack[] = [];
  const publisher = createPublisher({
    baseUrl: "http://mesh.invalid",
    source,
    key: KEYS.admin.secret,
    retry,
    // The base URL is read per attempt: a test may point it elsewhere between attempts.
    fetch: async (input, init) => {
      const url = input.replace("http://mesh.invalid", baseUrl());
      try {
        const res = await fetch(url, init);
        if (!res.ok) failedAttempts.count += 1;
        return res;
      } catch (err) {
        failedAttempts.count += 1;
        throw err;
      }
    },
  });
  return {
    acks,
    failedAttempts,
    duplicates,
    async publish(topic, events) {
      const answer = await publisher.publish(topic, events);
      for (const e of answer.events) {
        if (e.duplicate) duplicates.count += 1;
        acks.push({ topic, id: e.id, source: e.source, seq: e.seq });
      }
    },
  };
}

export interface Follower {
  /** Seqs handed to the app, in the order it got them. */
  readonly seqs: number[];
  /** `[seq, id]` pairs, to compare subscribers of one topic. */
  readonly events: [number, string][];
  readonly states: SubscriptionState[];
  readonly errors: SubscriptionError[];
  readonly subscription: Subscription;
  /** Connections that replayed, i.e. the first one and every reconnect. */
  readonly connections: number;
  close(): void;
}

/** A live subscriber with the real client and the admin key. */
export function follow(
  url: string,
  topic: string,
  options: { after?: number; client?: Partial<MeshClientOptions> } = {},
): Follower {
  const seqs: number[] = [];
  const events: [number, string][] = [];
  const states: SubscriptionState[] = [];
  const errors: SubscriptionError[] = [];
  const client = createMeshClient({ url, token: () => subscriberToken([topic]), ...FAST_CLIENT, ...options.client });
  const subscription = client.subscribe(topic, {
    after: options.after,
    onEvent: (event) => {
      seqs.push(event.seq);
      events.push([event.seq, String(event.id)]);
    },
    onStateChange: (state) => states.push(state),
    onError: (error) => errors.push(error),
  });
  return {
    seqs,
    events,
    states,
    errors,
    subscription,
    get connections() {
      return states.filter((s) => s === "replaying").length;
    },
    close: () => client.close(),
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
