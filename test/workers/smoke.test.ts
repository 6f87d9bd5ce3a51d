import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("publishes and reads back", async () => {
  const res = await exports.default.fetch("http://mesh/v1/topics/smoke/events", {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ id: "1", source: "test", type: "Thing", specversion: "1.0", data: { a: 1 } }),
  });
  expect(res.status).toBe(201);
  const page = await (await exports.default.fetch("http://mesh/v1/topics/smoke/events")).json();
  expect(page).toMatchObject({ head: 1, events: [{ id: "1", sequence: 1 }] });
});

it("lists topics that have been used", async () => {
  await exports.default.fetch("http://mesh/v1/topics/listed/events", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: "1", source: "test", type: "Thing", specversion: "1.0" }),
  });
  const { topics } = await (await exports.default.fetch("http://mesh/v1/topics")).json<{
    topics: { topic: string; head: number }[];
  }>();
  expect(topics).toContainEqual(expect.objectContaining({ topic: "listed", head: 1 }));
});
