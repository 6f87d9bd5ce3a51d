import { afterAll, beforeAll, expect, it } from "vitest";
import { LocalServer } from "../support/local-server.ts";

const server = new LocalServer();
beforeAll(() => server.start());
afterAll(() => server.dispose());

it("keeps the log across a restart with persisted state", async () => {
  const publish = (id: string) =>
    fetch(`${server.url}/v1/topics/restart/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id, source: "e2e", type: "Thing", specversion: "1.0" }),
    }).then((r) => r.json());
  expect(await publish("a")).toMatchObject({ events: [{ sequence: 1 }] });
  await server.restart();
  expect(await publish("a")).toMatchObject({ events: [{ sequence: 1, duplicate: true }] });
  expect(await publish("b")).toMatchObject({ events: [{ sequence: 2, duplicate: false }] });
});
