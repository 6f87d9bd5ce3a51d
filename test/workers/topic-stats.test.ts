import { describe, expect, it } from "vitest";
import type { TopicStats } from "../../protocol/responses.ts";
import { collect } from "./support/socket.ts";
import { event, freshTopic, publish, request } from "./topic-client.ts";

/** The counters an operator reads per topic, through the real route. */
describe("GET /v1/topics/:topic/stats", () => {
  it("counts publishes, stored events, duplicates, bytes, open sockets and subscriptions", async () => {
    const topic = freshTopic("stats");
    await publish(topic, [event("s1"), event("s2")]);
    await publish(topic, [event("s2"), event("s3")]);
    await publish(topic, event("s3"));
    const socket = collect(await request(`/v1/topics/${topic}/ws`, { headers: { upgrade: "websocket" } }));
    await socket.until((frames) => frames.some((f) => f.type === "caught-up"), "caught-up");
    await request(`/v1/topics/${topic}/subscriptions/audit`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: { type: "queue", queue: "DELIVERY_QUEUE" }, start: "latest" }),
    });

    const res = await request(`/v1/topics/${topic}/stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as TopicStats;
    const info = (await (await request(`/v1/topics/${topic}`)).json()) as { bytes: number };
    expect(stats).toEqual({
      topic,
      publishes: 3,
      eventsAppended: 3,
      duplicates: 2,
      eventCount: 3,
      bytes: info.bytes,
      liveSockets: 1,
      hubs: 0,
      subscriptions: 1,
      deadLetters: 0,
      gaps: 0,
    });
    expect(stats.bytes).toBeGreaterThan(0);
    socket.ws.close(1000);
  });
});
