import { expect, it } from "vitest";
import { createPublisher } from "../../client/publisher.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { BASE, freshTopic, history } from "./topic-client.ts";

// The publisher SDK inside workerd (a Worker publishing to the mesh through a service binding).
it("publishes from a Worker and the events are stored with the filled attributes", async () => {
  const topic = freshTopic("sdk-in-worker");
  const publisher = createPublisher({
    baseUrl: BASE,
    source: "/worker",
    fetch: (url, init) => meshFetch(url, init),
  });
  const answer = await publisher.publish(topic, [
    { type: "MemberJoined", data: { userId: "u1", name: "Ada", email: "ada@example.com" } },
    { type: "Other", subject: "s", correlationid: "c1" },
  ]);
  expect(answer.events.map((e) => [e.seq, e.duplicate])).toEqual([
    [1, false],
    [2, false],
  ]);
  const { events } = await history(topic);
  expect(events[0]).toMatchObject({ id: answer.events[0].id, source: "/worker", specversion: "1.0", seq: 1 });
  expect(events[1]).toMatchObject({ type: "Other", subject: "s", correlationid: "c1", seq: 2 });
  expect(Date.parse(String(events[1].time))).not.toBeNaN();
});
