import { describe, expect, it } from "vitest";
import type { Env } from "../../runtime/env.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import { hubName, rankHubs } from "../../worker/hub-choice.ts";
import { connectToHub } from "../../worker/hub-connect.ts";

/** A SOCKET_HUB namespace whose every hub is full; it records the hubs asked and what they were told. */
function fullHubs() {
  const asked: { hub: string; header: string | null; client: string | null }[] = [];
  const namespace = {
    idFromName: (name: string) => name,
    get: (name: string) => ({
      fetch: async (request: Request) => {
        asked.push({
          hub: name,
          header: request.headers.get("x-mesh-hub"),
          client: request.headers.get("x-mesh-client"),
        });
        return new Response("full", { status: 503, headers: { "x-mesh-refusal": "hub_full" } });
      },
    }),
  };
  return { env: { SOCKET_HUB: namespace } as unknown as Env, asked };
}

describe("connectToHub", () => {
  it("tries the key's hubs in rank windows, tells each its name, and refuses with overloaded when all are full", async () => {
    const { env, asked } = fullHubs();
    const headers = new Headers({ "x-mesh-client": "203.0.113.7" });
    const attempt = connectToHub(env, "http://mesh/v1/ws", headers, { key: "orders", poolSize: 16, attempts: 4 });
    const error = await attempt.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MeshError);
    expect(error).toMatchObject({ code: "overloaded", details: { retryAfterSeconds: 10 } });
    expect(asked).toHaveLength(4);
    const ranked = rankHubs("orders", 16);
    expect(asked[0].hub).toBe(hubName(ranked[0]));
    expect(asked[1].hub).toBe(hubName(ranked[1]));
    expect([ranked[2], ranked[3]].map(hubName)).toContain(asked[2].hub);
    expect(asked.every((a) => a.header === a.hub && a.client === "203.0.113.7")).toBe(true);
  });
});
