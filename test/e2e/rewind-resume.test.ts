import { afterAll, beforeAll, expect, inject, it, vi } from "vitest";
import WebSocket from "ws";
import { createMeshClient } from "../../client/mesh-client.ts";
import type { SubscriptionError } from "../../client/subscription.ts";
import { adminApi } from "../support/admin-api.ts";
import { CutProxy } from "../support/cut-proxy.ts";
import { subscriberToken } from "../support/subscriber-token.ts";

// Issue 16's rewind with the real client (Node's ws) against the shared local server, through a proxy
// that cuts the connection: a subscription that starts from the last N events (on the shared /v1/ws
// socket) and one that starts from a time (on its own one-topic socket) both resume after the cut from
// the cursor their rewind resolved to, with no gap and no duplicate, never by rewinding again.

const server = { url: inject("meshUrl") };
const api = adminApi(server);
const WAIT = { timeout: 20_000, interval: 50 };
const RUN = Date.now().toString(36);
const LAST = `rw.last.${RUN}`;
const SINCE = `rw.since.${RUN}`;

let proxy: CutProxy;
beforeAll(async () => {
  proxy = await new CutProxy(Number(new URL(server.url).port)).start();
});
afterAll(async () => {
  await proxy?.close();
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function publish(topic: string, from: number, to: number): Promise<void> {
  await api.publish(
    topic,
    range(from, to).map((n) => ({ id: `${topic}-${n}`, source: "/e2e-rewind", type: "Tick", specversion: "1.0" })),
  );
}

it("starts from the last N events and from a time, and resumes each exactly after a cut", async () => {
  await publish(LAST, 1, 20);
  await publish(SINCE, 1, 10);
  // The log's own append time: events 11.. are stored after `since`, events ..10 before it.
  await sleep(20);
  const since = new Date();
  await sleep(20);
  await publish(SINCE, 11, 20);

  // While the gate is shut, the client's token function waits: the client cannot reconnect.
  let openGate: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const token = await subscriberToken(["rw.*"]);
  const client = createMeshClient({
    url: proxy.url,
    WebSocket,
    token: async () => {
      await gate;
      return token;
    },
    backoff: { firstDelayMs: 50, maxDelayMs: 500 },
    heartbeat: { intervalMs: 1_000, timeoutMs: 4_000 },
  });
  const seqs = { last: [] as number[], since: [] as number[] };
  const errors: SubscriptionError[] = [];
  const last = client.subscribe(LAST, {
    last: 5,
    onEvent: (e) => seqs.last.push(e.seq),
    onError: (e) => errors.push(e),
  });
  const fromTime = client.subscribe(SINCE, {
    since,
    connection: "own",
    onEvent: (e) => seqs.since.push(e.seq),
    onError: (e) => errors.push(e),
  });
  const bothLive = () => expect([last.state, fromTime.state]).toEqual(["live", "live"]);
  await vi.waitFor(bothLive, WAIT);
  expect(seqs).toEqual({ last: range(16, 20), since: range(11, 20) });

  // The network drops; 8 more events per topic while the client cannot come back. Rewinding again
  // would start LAST at 24: resuming from the cursor gives 21 next.
  gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
  expect(proxy.reset()).toBe(2);
  await vi.waitFor(() => expect([last.state, fromTime.state]).toEqual(["reconnecting", "reconnecting"]), WAIT);
  await publish(LAST, 21, 28);
  await publish(SINCE, 21, 28);
  openGate();
  await vi.waitFor(bothLive, WAIT);
  await publish(LAST, 29, 30);
  await vi.waitFor(() => expect(seqs.last.at(-1)).toBe(30), WAIT);

  expect(seqs).toEqual({ last: range(16, 30), since: range(11, 28) });
  expect(errors).toEqual([]);
  expect(proxy.accepted).toBe(4);
  client.close();
});
