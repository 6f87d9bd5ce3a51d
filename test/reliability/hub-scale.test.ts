import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { type LocalWorker, startMesh } from "../../bench/setup/workers.ts";
import { ackFrame, markIdOf, subscribeFrameText } from "../../protocol/frames.ts";

const SOCKETS = 10_000;
const PER_HUB = 2_500;
const EVENTS = 20;
/** Upgrades in flight at once: enough to be quick, few enough that none times out on two cores. */
const IN_FLIGHT = 200;

// workerd through Miniflare without wrangler's dev proxy: the proxy would hold a second descriptor
// per socket in this process, past the machine's 20,000.
let mesh: LocalWorker;
beforeAll(async () => {
  mesh = await startMesh({ HUB_MAX_SOCKETS: String(PER_HUB), HUB_POOL_SIZE: "16" });
}, 120_000);
afterAll(async () => {
  await mesh?.stop();
});

interface Follower {
  ws: WebSocket;
  hub: string;
  seqs: number[];
  caughtUp: boolean;
}

/** A socket on `/v1/ws` following `topic` from the start, acknowledging every mark it reads. */
function follow(topic: string): Promise<Follower> {
  return new Promise((resolve, reject) => {
    // No per-message compression: ten thousand zlib contexts on each side cost more than the test.
    const ws = new WebSocket(`${mesh.wsUrl}/v1/ws?batch=true&key=${topic}&token=${mesh.token}`, {
      perMessageDeflate: false,
    });
    const follower: Follower = { ws, hub: "", seqs: [], caughtUp: false };
    ws.once("upgrade", (res) => {
      follower.hub = String(res.headers["x-mesh-hub"] ?? "");
    });
    ws.once("open", () => {
      ws.send(subscribeFrameText({ topic, after: 0 }));
      resolve(follower);
    });
    ws.once("error", reject);
    ws.on("message", (data) => {
      const text = String(data);
      const mark = markIdOf(text);
      if (mark !== null) {
        ws.send(ackFrame(mark));
        return;
      }
      const frame = JSON.parse(text) as { type: string; event?: { seq: number }; events?: { seq: number }[] };
      if (frame.type === "event" && frame.event) follower.seqs.push(frame.event.seq);
      else if (frame.type === "events" && frame.events) for (const event of frame.events) follower.seqs.push(event.seq);
      else if (frame.type === "caught-up") follower.caughtUp = true;
    });
  });
}

/**
 * POSTs one event, sent again if the connection fails: after minutes of upgrades the runtime may
 * have closed the idle connection fetch reuses. The id makes a resend store the event once.
 */
async function publishOnce(topic: string, id: string): Promise<Response> {
  const send = () =>
    fetch(`${mesh.url}/v1/topics/${topic}/events`, {
      method: "POST",
      headers: { ...mesh.headers, "content-type": "application/cloudevents+json" },
      body: JSON.stringify({ specversion: "1.0", id, source: "/scale", type: "Tick" }),
    });
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

describe("one topic, 10,000 sockets on hubs", () => {
  it("spreads the audience over at least 4 hubs and delivers every event once and in order to every socket", async () => {
    const topic = `scale-${Date.now()}`;
    const followers: Follower[] = [];
    let started = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (started < SOCKETS) {
          started += 1;
          followers.push(await follow(topic));
        }
      }),
    );
    expect(followers).toHaveLength(SOCKETS);
    await vi.waitFor(() => expect(followers.filter((f) => !f.caughtUp)).toHaveLength(0), {
      timeout: 120_000,
      interval: 250,
    });

    const perHub = new Map<string, number>();
    for (const { hub } of followers) perHub.set(hub, (perHub.get(hub) ?? 0) + 1);
    expect(perHub.has("")).toBe(false);
    expect(perHub.size).toBeGreaterThanOrEqual(4);
    expect(Math.max(...perHub.values())).toBeLessThanOrEqual(PER_HUB);

    // Four publishers at a time, as events arrive in a live topic.
    for (let seq = 1; seq <= EVENTS; seq += 4) {
      await Promise.all(
        [0, 1, 2, 3].map(async (k) => {
          const res = await publishOnce(topic, `e-${seq + k}`);
          expect(res.status).toBe(201);
        }),
      );
    }

    const expected = Array.from({ length: EVENTS }, (_, i) => i + 1);
    await vi.waitFor(() => expect(followers.filter((f) => f.seqs.length < EVENTS)).toHaveLength(0), {
      timeout: 120_000,
      interval: 250,
    });
    const wrong = followers.filter((f) => f.seqs.join() !== expected.join());
    expect(wrong.map((f) => f.seqs).slice(0, 3)).toEqual([]);
    for (const { ws } of followers) ws.terminate();
  }, 360_000);
});
