import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.ts";
import { ADMIN_AUTH, KEYS } from "../support/credentials.ts";
import { testCatalog } from "../support/test-catalog.ts";

/**
 * Rotating the token signing secret without downtime, through the real routes: the deployment's
 * MESH_TOKEN_SECRET goes from [old] to [new, old] to [new]; tokens minted at each step keep
 * working exactly as long as the secret that signed them is listed.
 */
const TOPIC = "rotation.feed";
const app = createApp({ catalog: testCatalog });
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const OLD = { id: "old", secret: `old-${"o".repeat(40)}` };
const NEW = { id: "new", secret: `new-${"n".repeat(40)}` };
const deployment = (...secrets: (typeof OLD)[]) => ({ ...env, MESH_TOKEN_SECRET: JSON.stringify(secrets) });

async function mint(deployed: ReturnType<typeof deployment>): Promise<string> {
  const res = await app.fetch(
    new Request("http://mesh/v1/tokens", {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.admin.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ topics: [TOPIC], ops: ["history"] }),
    }),
    deployed,
    ctx,
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function read(
  deployed: ReturnType<typeof deployment>,
  token: string,
): Promise<{ status: number; code?: string }> {
  const res = await app.fetch(
    new Request(`http://mesh/v1/topics/${TOPIC}/events`, { headers: { authorization: `Bearer ${token}` } }),
    deployed,
    ctx,
  );
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

describe("rotating the token signing secret", () => {
  it("old tokens work through the overlap, new ones from its start, and old ones stop when the old secret goes", async () => {
    const publish = await app.fetch(
      new Request(`http://mesh/v1/topics/${TOPIC}/events`, {
        method: "POST",
        headers: { ...ADMIN_AUTH, "content-type": "application/cloudevents+json" },
        body: JSON.stringify({ id: "r1", source: "/rotation", type: "Thing", specversion: "1.0" }),
      }),
      env,
      ctx,
    );
    expect(publish.status).toBe(201);

    const before = deployment(OLD);
    const overlap = deployment(NEW, OLD);
    const after = deployment(NEW);
    const oldToken = await mint(before);
    expect(await read(before, oldToken)).toEqual({ status: 200 });

    const newToken = await mint(overlap);
    expect(await read(overlap, oldToken)).toEqual({ status: 200 });
    expect(await read(overlap, newToken)).toEqual({ status: 200 });
    // A deployment still on the old list cannot know the new secret.
    expect(await read(before, newToken)).toEqual({ status: 401, code: "unauthorized" });

    expect(await read(after, newToken)).toEqual({ status: 200 });
    expect(await read(after, oldToken)).toEqual({ status: 401, code: "unauthorized" });
  });
});
