import { describe, expect, it, vi } from "vitest";
import type { TopicStats } from "../../protocol/responses.ts";
import { collect } from "./support/socket.ts";
import { event, freshTopic, publish, request } from "./topic-client.ts";

/** The counters an operator reads per topic, through the real route. */
describe("GET /v1/topics/:topic/stats", () => {
  it("counts publishes, stored events, duplicates, bytes, hubs, their sockets and subscriptions", async () => {
    const topic = freshTopic("stats");
    const socket = collect(await request(`/v1/topics/${topic}/ws`, { headers: { upgrade: "websocket" } }));
    await socket.until((frames) => frames.some((f) => f.type === "caught-up"), "caught-up");
    await publish(topic, [event("s1"), event("s2")]);
    await publish(topic, [event("s2"), event("s3")]);
    await publish(topic, event("s3"));
    // The hub holding the socket says how many of its sockets follow the topic when it answers a push.
    await socket.until((frames) => frames.some((f) => f.type === "event" && f.event.seq === 3), "seq 3");
    await request(`/v1/topics/${topic}/subscriptions/audit`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: { type: "queue", queue: "DELIVERY_QUEUE" }, start: "latest" }),
    });

    const stats = await vi.waitFor(async () => {
      const res = await request(`/v1/topics/${topic}/stats`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as TopicStats;
      expect(body.liveSockets).toBe(1);
      return body;
    });
    const info = (await (await request(`/v1/topics/${topic}`)).json()) as { bytes: number };
    expect(stats).toEqual({
      topic,
      publishes: 3,
      eventsAppended: 3,
      duplicates: 2,
      eventCount: 3,
      bytes: info.bytes,
      liveSockets: 1,
      hubs: 1,
      subscriptions: 1,
      deadLetters: 0,
      gaps: 0,
    });
    expect(stats.bytes).toBeGreaterThan(0);
    socket.ws.close(1000);
  });
});
