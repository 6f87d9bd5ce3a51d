import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LiveSockets } from "../../durable-objects/live-sockets.ts";
import type { LogStore } from "../../durable-objects/log-store.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { collect } from "./support/socket.ts";

/**
 * A topic object holds a bounded number of sockets, in all and per client address and per
 * credential, and refuses past them with a retryable close and a delay: never a bare 500 that a
 * client would retry at once, forever.
 */
const stub = (topic: string) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic));
const limits = { maxUnackedChars: 1 << 21, stallMs: 60_000, maxSockets: 4, maxPerClient: 2, maxPerCredential: 3 };

/** Opens sockets on the topic object through a LiveSockets with small limits; answers each refusal. */
async function open(topic: string, who: { client: string; credential: string }[]) {
  return runInDurableObject(stub(topic), async (instance, state) => {
    const { store } = instance as unknown as { store: LogStore };
    const sockets = new LiveSockets(state, store, 10, limits);
    const outcomes: { frames: unknown[]; close: number | null }[] = [];
    for (const { client, credential } of who) {
      const before = state.getWebSockets().length;
      const socket = collect(sockets.accept({ topic, after: 0, client, credential }));
      if (state.getWebSockets().length > before) continue;
      // Refused: the error frame and the close arrive on the client end.
      const { code } = await socket.closed;
      outcomes.push({ frames: socket.frames, close: code });
    }
    return { outcomes, open: state.getWebSockets().length };
  });
}

describe("socket limits of a topic object", () => {
  it("refuses past the object's limit with overloaded, 1013 and a delay", async () => {
    const who = ["a", "b", "c", "d", "e"].map((c) => ({ client: c, credential: `key:${c}` }));
    const { outcomes, open: count } = await open("limits-total", who);
    expect(count).toBe(4);
    expect(outcomes).toEqual([
      {
        frames: [expect.objectContaining({ type: "error", code: "overloaded", retryAfterSeconds: expect.any(Number) })],
        close: CLOSE.tryAgainLater,
      },
    ]);
  });

  it("refuses a client address, or a credential, past its own limit while others still connect", async () => {
    const who = [
      { client: "10.0.0.1", credential: "token:t1" },
      { client: "10.0.0.1", credential: "token:t2" },
      { client: "10.0.0.1", credential: "token:t3" },
      { client: "10.0.0.2", credential: "token:shared" },
      { client: "10.0.0.3", credential: "token:shared" },
    ];
    const { outcomes, open: count } = await open("limits-client", who);
    expect(count).toBe(4);
    expect(outcomes).toEqual([
      {
        frames: [
          expect.objectContaining({ code: "too_many_connections", message: expect.stringContaining("address") }),
        ],
        close: CLOSE.tryAgainLater,
      },
    ]);
    const byCredential = await open(
      "limits-credential",
      ["x", "y", "z", "w"].map((c) => ({ client: c, credential: "token:one" })),
    );
    expect(byCredential.open).toBe(3);
    expect(byCredential.outcomes[0].frames).toEqual([
      expect.objectContaining({ code: "too_many_connections", message: expect.stringContaining("credential") }),
    ]);
  });

  it("counts a socket opened through the Worker by its client address and credential", async () => {
    const res = await meshFetch("http://mesh/v1/topics/limits-route/ws", {
      headers: { upgrade: "websocket", "cf-connecting-ip": "203.0.113.9" },
    });
    const socket = collect(res);
    await socket.until((frames) => frames.some((f) => f.type === "caught-up"), "caught-up");
    const tags = await runInDurableObject(stub("limits-route"), (_instance, state) => ({
      client: state.getWebSockets("client:203.0.113.9").length,
      credential: state.getWebSockets("credential:key:test-admin").length,
    }));
    expect(tags).toEqual({ client: 1, credential: 1 });
    socket.ws.close(1000);
  });
});
