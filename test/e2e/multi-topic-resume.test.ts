import { afterAll, beforeAll, expect, inject, it, vi } from "vitest";
import WebSocket from "ws";
import { createMeshClient } from "../../client/mesh-client.ts";
import type { SubscriptionError } from "../../client/subscription.ts";
import type { SubscriptionState } from "../../client/subscription-state.ts";
import { adminApi } from "../support/admin-api.ts";
import { CutProxy } from "../support/cut-proxy.ts";
import { subscriberToken } from "../support/subscriber-token.ts";

// Issue 15's proof "one socket following 20 topics, events of each in order with exact resume after a
// cut", with the real client (connection: "shared", Node's ws) against the shared local server,
// through a proxy that cuts the connection. Publishes go straight to the server.

const server = { url: inject("meshUrl") };
const api = adminApi(server);
const WAIT = { timeout: 30_000, interval: 50 };
const RUN = Date.now().toString(36);
const TOPICS = [
  ...Array.from({ length: 10 }, (_, i) => `mt.a.${RUN}.${i}`),
  ...Array.from({ length: 10 }, (_, i) => `mt.b.${RUN}.${i}`),
];
/** Two subscriptions take only this type; every third event of every topic is one. */
const FILTERED = new Set([TOPICS[3], TOPICS[14]]);
/** Two take the same events through a CloudEvents filter instead, evaluated by the hub. */
const CE_FILTERED = new Set([TOPICS[7], TOPICS[17]]);
const NOT_TICK = [{ not: { exact: { type: "Tick" } } }];
const rareOnly = (topic: string) => FILTERED.has(topic) || CE_FILTERED.has(topic);
const OUTSIDE = `mtx.${RUN}.secret`;

let proxy: CutProxy;
beforeAll(async () => {
  proxy = await new CutProxy(Number(new URL(server.url).port)).start();
});
afterAll(async () => {
  await proxy?.close();
});

/** The client's WebSocket class, recording the URL of every socket it opens. */
const opened: URL[] = [];
class RecordingWebSocket extends WebSocket {
  constructor(address: string | URL, protocols?: string | string[]) {
    super(address, protocols);
    opened.push(new URL(String(address)));
  }
}

const typeOf = (n: number) => (n % 3 === 0 ? "Rare" : "Tick");

/** Event n (1-based) of every topic, one POST per topic, the topics' POSTs side by side: interleaved. */
async function publishRound(n: number): Promise<void> {
  await Promise.all(
    TOPICS.map((topic) =>
      api.publish(topic, [{ id: `${topic}-${n}`, source: "/e2e-multi", type: typeOf(n), specversion: "1.0" }]),
    ),
  );
}

it("follows 20 topics over one socket and resumes each exactly after a cut; a topic outside the token is refused alone", async () => {
  // While the gate is shut, the client's token function waits: the client cannot reconnect.
  let openGate: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const token = await subscriberToken(["mt.a.*", "mt.b.*"]);
  const client = createMeshClient({
    url: proxy.url,
    WebSocket: RecordingWebSocket,
    connection: "shared",
    token: async () => {
      await gate;
      return token;
    },
    backoff: { firstDelayMs: 50, maxDelayMs: 500 },
    heartbeat: { intervalMs: 1_000, timeoutMs: 4_000 },
    connectionTimeoutMs: 5_000,
  });
  const seqs = new Map<string, number[]>();
  const states = new Map<string, SubscriptionState[]>();
  const errors = new Map<string, SubscriptionError[]>();
  const subscribe = (topic: string) => {
    seqs.set(topic, []);
    states.set(topic, []);
    errors.set(topic, []);
    return client.subscribe(topic, {
      types: FILTERED.has(topic) ? ["Rare"] : undefined,
      filter: CE_FILTERED.has(topic) ? NOT_TICK : undefined,
      onEvent: (event) => seqs.get(topic)?.push(event.seq),
      onStateChange: (state) => states.get(topic)?.push(state),
      onError: (error) => errors.get(topic)?.push(error),
    });
  };
  const subs = TOPICS.map(subscribe);
  const outside = subscribe(OUTSIDE);
  const allLive = () => expect(subs.map((s) => s.state)).toEqual(subs.map(() => "live"));

  await vi.waitFor(allLive, WAIT);
  // The topic the token does not cover is refused for good, alone.
  await vi.waitFor(() => expect(outside.state).toBe("closed"), WAIT);
  expect(errors.get(OUTSIDE)).toEqual([{ code: "forbidden", message: expect.any(String), terminal: true }]);
  expect(proxy.open).toBe(1);

  for (let n = 1; n <= 10; n += 1) await publishRound(n);
  await vi.waitFor(() => {
    for (const topic of TOPICS) expect(seqs.get(topic)?.at(-1)).toBe(rareOnly(topic) ? 9 : 10);
  }, WAIT);

  // The network drops; the client cannot come back until the gate opens; 10 more per topic meanwhile.
  gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
  expect(proxy.reset()).toBe(1);
  await vi.waitFor(() => expect(subs.every((s) => s.state === "reconnecting")).toBe(true), WAIT);
  for (let n = 11; n <= 20; n += 1) await publishRound(n);
  expect(proxy.open).toBe(0);
  openGate();

  await vi.waitFor(allLive, WAIT);
  for (let n = 21; n <= 30; n += 1) await publishRound(n);
  await vi.waitFor(() => {
    for (const topic of TOPICS) expect(seqs.get(topic)?.at(-1)).toBe(30);
  }, WAIT);

  const all = Array.from({ length: 30 }, (_, i) => i + 1);
  for (const topic of TOPICS) {
    expect(seqs.get(topic), topic).toEqual(rareOnly(topic) ? all.filter((n) => typeOf(n) === "Rare") : all);
    expect(errors.get(topic), topic).toEqual([]);
    expect(states.get(topic), topic).toEqual(["replaying", "live", "reconnecting", "replaying", "live"]);
  }
  // One socket per connection period, both to /v1/ws; the refused topic was not asked for again.
  expect(proxy.accepted).toBe(2);
  expect(opened.map((url) => url.pathname)).toEqual(["/v1/ws", "/v1/ws"]);
  expect(errors.get(OUTSIDE)).toHaveLength(1);
  expect(seqs.get(OUTSIDE)).toEqual([]);
  client.close();
});

it("publishes over the shared socket exactly once while the connection is cut under it", async () => {
  const topic = `mtp.${RUN}`;
  const cut = await new CutProxy(Number(new URL(server.url).port)).start();
  const token = await subscriberToken([topic], 3600, ["subscribe", "publish"]);
  const client = createMeshClient({
    url: cut.url,
    WebSocket,
    token,
    backoff: { firstDelayMs: 20, maxDelayMs: 100 },
    heartbeat: false,
  });
  try {
    const ids = Array.from({ length: 50 }, (_, i) => `m${i + 1}`);
    const answers = ids.map((id) => client.publish(topic, { id, source: "/e2e-multi", type: "Tick" }));
    // Cut twice while the publishes are under way: the answers in flight are lost with the connection,
    // and whatever the mesh stored of them is answered again, as a duplicate, after the resend.
    for (let cuts = 0; cuts < 2; cuts += 1) {
      await vi.waitFor(() => expect(cut.open).toBe(1), WAIT);
      cut.reset();
    }
    const results = await Promise.all(answers);
    const { events } = await api.readLog(topic);
    expect(events.map((event) => event.id).sort()).toEqual([...ids].sort());
    expect(events.map((event) => event.seq)).toEqual(ids.map((_, i) => i + 1));
    // Each promise names the seq its event holds in the log.
    for (const result of results) expect(events[result.seq - 1].id).toBe(result.id);
    expect(cut.accepted).toBeGreaterThanOrEqual(3);
  } finally {
    client.close();
    await cut.close();
  }
});
