import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SocketHub } from "../../durable-objects/socket-hub.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import { readConfig } from "../../runtime/config.ts";
import { hubName, rankHubs } from "../../worker/hub-choice.ts";
import { hubStub } from "./support/hub-socket.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { collect } from "./support/socket.ts";
import { freshTopic } from "./topic-client.ts";

/**
 * The hubs that hold one-topic sockets hold a bounded number, in all and per client address and per
 * credential (both counted per hub), and refuse past them with a retryable close and a delay: never
 * a bare 500 that a client would retry at once, forever. A full hub sends the Worker to the next.
 */
type Limits = { maxSockets: number; maxPerClient: number; maxPerCredential: number };
const limitsOf = (instance: SocketHub) => (instance as unknown as { limits: Limits }).limits;
const small: Limits = { maxSockets: 4, maxPerClient: 2, maxPerCredential: 3 };

/**
 * Hands one-topic sockets to a hub with small limits, as the Worker does; answers each refusal: a
 * full hub's 503, or the error frame and close the client end gets.
 */
async function open(hub: string, topic: string, who: { client: string; credential: string }[]) {
  return runInDurableObject(hubStub(hub), async (instance: SocketHub, state) => {
    const limits = limitsOf(instance);
    const saved = { ...limits };
    Object.assign(limits, small);
    const outcomes: ({ hubFull: true } | { frames: unknown[]; close: number })[] = [];
    try {
      for (const { client, credential } of who) {
        const before = state.getWebSockets().length;
        const res = await instance.fetch(
          new Request(`http://mesh/v1/topics/${topic}/ws`, {
            headers: {
              upgrade: "websocket",
              "x-mesh-hub": hub,
              "x-mesh-topic": topic,
              "x-mesh-client": client,
              "x-mesh-credential": credential,
              "x-mesh-scope": JSON.stringify({ topics: [topic], ops: ["subscribe"] }),
            },
          }),
        );
        if (res.status === 503) {
          expect(res.headers.get("x-mesh-refusal")).toBe("hub_full");
          outcomes.push({ hubFull: true });
          continue;
        }
        const socket = collect(res);
        if (state.getWebSockets().length > before) continue;
        // Refused: the error frame and the close arrive on the client end.
        const { code } = await socket.closed;
        outcomes.push({ frames: socket.frames, close: code });
      }
    } finally {
      Object.assign(limits, saved);
    }
    return { outcomes, open: state.getWebSockets().length };
  });
}

describe("socket limits of a hub", () => {
  it("answers 503 hub_full past the hub's limit, so the Worker tries another hub", async () => {
    const topic = freshTopic("limits-total");
    const who = ["a", "b", "c", "d", "e"].map((c) => ({ client: c, credential: `key:${c}` }));
    const { outcomes, open: count } = await open("hub-limits-total", topic, who);
    expect(count).toBe(4);
    expect(outcomes).toEqual([{ hubFull: true }]);
  });

  it("refuses a client address, or a credential, past its own limit on the hub while others still connect", async () => {
    const topic = freshTopic("limits-client");
    const who = [
      { client: "10.0.0.1", credential: "token:t1" },
      { client: "10.0.0.1", credential: "token:t2" },
      { client: "10.0.0.1", credential: "token:t3" },
      { client: "10.0.0.2", credential: "token:shared" },
      { client: "10.0.0.3", credential: "token:shared" },
    ];
    const { outcomes, open: count } = await open("hub-limits-client", topic, who);
    expect(count).toBe(4);
    expect(outcomes).toEqual([
      {
        frames: [
          expect.objectContaining({
            code: "too_many_connections",
            message: expect.stringContaining("address"),
            retryAfterSeconds: expect.any(Number),
          }),
        ],
        close: CLOSE.tryAgainLater,
      },
    ]);
    const byCredential = await open(
      "hub-limits-credential",
      topic,
      ["x", "y", "z", "w"].map((c) => ({ client: c, credential: "token:one" })),
    );
    expect(byCredential.open).toBe(3);
    expect(byCredential.outcomes).toEqual([
      {
        frames: [
          expect.objectContaining({ code: "too_many_connections", message: expect.stringContaining("credential") }),
        ],
        close: CLOSE.tryAgainLater,
      },
    ]);
  });

  it("refuses with overloaded, 1013 and a delay when every hub the Worker tries is full", async () => {
    const topic = freshTopic("limits-all-full");
    const { hubPoolSize, hubConnectAttempts, hubMaxSockets } = readConfig(env);
    // Attempt n picks among ranks [2^(n-1), 2^n): these are all the hubs the Worker may try.
    const tried = rankHubs(topic, hubPoolSize)
      .slice(0, 2 ** (hubConnectAttempts - 1))
      .map(hubName);
    const setMax = (maxSockets: number) =>
      Promise.all(
        tried.map((hub) =>
          runInDurableObject(hubStub(hub), (instance: SocketHub) => {
            limitsOf(instance).maxSockets = maxSockets;
          }),
        ),
      );
    await setMax(0);
    try {
      const socket = collect(
        await meshFetch(`http://mesh/v1/topics/${topic}/ws`, { headers: { upgrade: "websocket" } }),
      );
      expect(await socket.closed).toMatchObject({ code: CLOSE.tryAgainLater });
      expect(socket.frames).toEqual([
        expect.objectContaining({ type: "error", code: "overloaded", retryAfterSeconds: expect.any(Number) }),
      ]);
    } finally {
      await setMax(hubMaxSockets);
    }
    // With room again, the same topic's socket lands on its first hub.
    const res = await meshFetch(`http://mesh/v1/topics/${topic}/ws`, { headers: { upgrade: "websocket" } });
    expect(res.headers.get("x-mesh-hub")).toBe(tried[0]);
    const socket = collect(res);
    await socket.until((frames) => frames.some((f) => f.type === "caught-up"), "caught-up");
    socket.ws.close(1000);
  });

  it("counts a socket opened through the Worker by its client address and credential, on its hub", async () => {
    const res = await meshFetch("http://mesh/v1/topics/limits-route/ws", {
      headers: { upgrade: "websocket", "cf-connecting-ip": "203.0.113.9" },
    });
    const hub = res.headers.get("x-mesh-hub") ?? "";
    expect(hub).toBe(hubName(rankHubs("limits-route", readConfig(env).hubPoolSize)[0]));
    const socket = collect(res);
    await socket.until((frames) => frames.some((f) => f.type === "caught-up"), "caught-up");
    const tags = await runInDurableObject(hubStub(hub), (_instance, state) => ({
      client: state.getWebSockets("client:203.0.113.9").length,
      credential: state.getWebSockets("credential:key:test-admin").length,
    }));
    expect(tags).toEqual({ client: 1, credential: 1 });
    socket.ws.close(1000);
  });
});
