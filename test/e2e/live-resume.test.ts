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

it("stops on a terminal close code and reports it", async () => {
  await api.publish("live.terminal", [tick(1), tick(2), tick(3)]);
  const sub = follow(server.url, "live.terminal", { after: 10 });
  await vi.waitFor(() => expect(sub.subscription.state).toBe("closed"), WAIT);
  expect(sub.errors).toEqual([
    {
      code: "cursor_ahead",
      message: expect.stringContaining("after=10"),
      closeCode: CLOSE.cursorAhead,
      terminal: true,
    },
  ]);
  await sleep(1_000);
  expect(sub.states).toEqual(["replaying", "closed"]);
  expect(sub.seqs).toEqual([]);
});
