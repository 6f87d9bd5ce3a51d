import { expect, inject, it, vi } from "vitest";
import { CLOSE } from "../../protocol/close-codes.ts";
import { adminApi } from "../support/admin-api.ts";
import { follow, sleep } from "../support/parties.ts";

// The e2e files' shared local server (test/support/shared-server-setup.ts). Cuts, restarts and
// resumes from stored state are proven by test/reliability (random-cuts, crash-restart) and
// test/browser/live.test.ts.
const server = { url: inject("meshUrl") };
const api = adminApi(server);

const WAIT = { timeout: 10_000 };
const tick = (n: number) => ({ id: `e${n}`, source: "/e2e-live", type: "Tick", specversion: "1.0", data: { n } });

it("still receives the next event after staying idle long enough for the Durable Object to hibernate", async () => {
  const sub = follow(server.url, "live.idle");
  await vi.waitFor(() => expect(sub.subscription.state).toBe("live"), WAIT);
  await api.publish("live.idle", [tick(1)]);
  await vi.waitFor(() => expect(sub.seqs).toEqual([1]), WAIT);
  // Local Durable Objects hibernate after about 10 s without events; heartbeats (every second
  // here) are answered by the runtime and do not keep it awake.
  await sleep(15_000);
  expect(sub.subscription.state).toBe("live");
  await api.publish("live.idle", [tick(2)]);
  await vi.waitFor(() => expect(sub.seqs).toEqual([1, 2]), WAIT);
  expect(sub.states).toEqual(["replaying", "live"]);
  sub.close();
});

// On a socket of its own the refusal is a close code; on the shared socket an `unsubscribed` frame
// ends this topic alone, with no close.
it.each([
  ["own", { closeCode: CLOSE.cursorAhead }],
  ["shared", {}],
] as const)("stops on a terminal refusal and reports it (%s connection)", async (connection, close) => {
  const topic = `live.terminal-${connection}`;
  await api.publish(topic, [tick(1), tick(2), tick(3)]);
  const sub = follow(server.url, topic, { after: 10, client: { connection } });
  await vi.waitFor(() => expect(sub.subscription.state).toBe("closed"), WAIT);
  expect(sub.errors).toEqual([
    {
      code: "cursor_ahead",
      message: expect.stringContaining("after=10"),
      ...close,
      terminal: true,
    },
  ]);
  await sleep(1_000);
  expect(sub.states).toEqual(["replaying", "closed"]);
  expect(sub.seqs).toEqual([]);
});
