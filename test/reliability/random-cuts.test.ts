import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { adminApi } from "../support/admin-api.ts";
import { CutProxy } from "../support/cut-proxy.ts";
import { checkDeliveries, checkLog, seqsUpTo, violationsOf } from "../support/invariants.ts";
import { LocalServer } from "../support/local-server.ts";
import { follow, sleep } from "../support/parties.ts";
import { runSeed, seededRandom } from "../support/seeded-random.ts";

// Scenario 4: WebSocket clients whose connections are cut at random moments (server close frames,
// resets with no close frame, client-side reconnects) while events flow, hundreds of times; then a
// late client whose replay of the whole log is cut again and again. Small replay pages, so cuts
// land in the middle of replays.
const server = new LocalServer({ vars: { REPLAY_PAGE_SIZE: "25" } });
const api = adminApi(server);
let proxy: CutProxy;
beforeAll(async () => {
  await server.start();
  proxy = await new CutProxy(Number(new URL(server.url).port)).start();
});
afterAll(async () => {
  await proxy.close();
  await server.dispose();
});

const CLIENTS = 20;
const EVENTS = 2_000;
const topic = "cuts.random";

it("gives every client each event exactly once, in order, through hundreds of random cuts", async () => {
  const rand = seededRandom(runSeed("random-cuts"));
  const clients = Array.from({ length: CLIENTS }, () => follow(proxy.url, topic));

  let publishing = true;
  const cuts = { serverClose: 0, reset: 0, clientReconnect: 0 };
  const cutter = (async () => {
    while (publishing) {
      await sleep(40 + rand() * 200);
      const dice = rand();
      if (dice < 0.35) cuts.serverClose += proxy.closeFromServer();
      else if (dice < 0.7) cuts.reset += proxy.reset();
      else {
        for (const c of clients) {
          if (rand() < 0.3 && c.subscription.state !== "reconnecting") {
            c.subscription.reconnect();
            cuts.clientReconnect += 1;
          }
        }
      }
    }
  })();
  for (let from = 1; from <= EVENTS; from += 10) {
    await api.publish(
      topic,
      Array.from({ length: 10 }, (_, i) => ({
        id: `cut-${from + i}`,
        source: "/cuts",
        type: "Tick",
        specversion: "1.0",
        data: { n: from + i },
      })),
    );
    await sleep(rand() * 40);
  }
  publishing = false;
  await cutter;

  const { head, events } = await api.readLog(topic);
  expect(head).toBe(EVENTS);
  await vi.waitFor(
    () =>
      expect(clients.map((c) => `${c.subscription.lastSeq}/${c.subscription.state}`)).toEqual(
        clients.map(() => `${head}/live`),
      ),
    { timeout: 60_000 },
  );
  const reconnects = clients.reduce((n, c) => n + c.connections - 1, 0);
  console.log(
    `random-cuts: ${cuts.serverClose} connections closed by the server side, ${cuts.reset} reset, ${cuts.clientReconnect} client reconnects; ${reconnects} resumes in all`,
  );
  for (const c of clients) c.close();

  expect(reconnects).toBeGreaterThanOrEqual(200);
  expect(clients.flatMap((c) => c.errors.filter((e) => e.terminal))).toEqual([]);
  expect(
    violationsOf(
      checkLog(topic, head, events),
      ...clients.map((c, i) => checkDeliveries(`client ${i}`, c.seqs, { expected: seqsUpTo(head) })),
    ),
  ).toEqual([]);
});

it("gives a late client the whole log exactly once while its long replay is cut again and again", async () => {
  // The first scenario left 2,000 events: 80 replay pages, the connection reset every 40 ms meanwhile.
  const late = follow(proxy.url, topic);
  let cuts = 0;
  const deadline = Date.now() + 60_000;
  while (late.subscription.lastSeq < EVENTS || late.subscription.state !== "live") {
    expect(Date.now(), `the late client is at ${late.subscription.lastSeq}`).toBeLessThan(deadline);
    await sleep(40);
    if (late.subscription.state === "replaying" && late.subscription.lastSeq < EVENTS) {
      cuts += proxy.reset() > 0 ? 1 : 0;
    }
  }
  late.close();
  expect(cuts).toBeGreaterThanOrEqual(1);
  expect(late.errors.filter((e) => e.terminal)).toEqual([]);
  expect(violationsOf(checkDeliveries("late client", late.seqs, { expected: seqsUpTo(EVENTS) }))).toEqual([]);
});
