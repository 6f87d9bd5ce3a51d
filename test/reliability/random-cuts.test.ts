import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_AUTH } from "../support/credentials.ts";
import { CutProxy } from "../support/cut-proxy.ts";
import { checkDeliveries, checkLog, readLog, seqsUpTo, violationsOf } from "../support/invariants.ts";
import { LocalServer } from "../support/local-server.ts";
import { eventually, follow, sleep } from "../support/parties.ts";
import { runSeed, seededRandom } from "../support/seeded-random.ts";

// Scenario 4: WebSocket clients whose connections are cut at random moments (server close frames,
// resets with no close frame, client-side reconnects) while events flow, hundreds of times.
// Small replay pages, so cuts also land in the middle of replays.
const server = new LocalServer({ vars: { REPLAY_PAGE_SIZE: "25" } });
beforeAll(() => server.start());
afterAll(() => server.dispose());

const CLIENTS = 20;
const EVENTS = 2_000;

it("gives every client each event exactly once, in order, through hundreds of random cuts", async () => {
  const rand = seededRandom(runSeed("random-cuts"));
  const topic = "cuts.random";
  const proxy = await new CutProxy(Number(new URL(server.url).port)).start();
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
    const batch = Array.from({ length: 10 }, (_, i) => ({
      id: `cut-${from + i}`,
      source: "/cuts",
      type: "Tick",
      specversion: "1.0",
      data: { n: from + i },
    }));
    const res = await fetch(`${server.url}/v1/topics/${topic}/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json", ...ADMIN_AUTH },
      body: JSON.stringify(batch),
    });
    expect(res.status).toBe(201);
    await sleep(rand() * 40);
  }
  publishing = false;
  await cutter;

  const { head, events } = await readLog(server.url, topic);
  expect(head).toBe(EVENTS);
  await eventually(
    () => clients.every((c) => c.subscription.lastSeq === head && c.subscription.state === "live"),
    "every client reaches the head",
    60_000,
    () => clients.map((c) => `${c.subscription.lastSeq}/${c.subscription.state}`).join(" "),
  );
  const reconnects = clients.reduce((n, c) => n + c.connections - 1, 0);
  console.log(
    `random-cuts: ${cuts.serverClose} connections closed by the server side, ${cuts.reset} reset, ${cuts.clientReconnect} client reconnects; ${reconnects} resumes in all`,
  );
  for (const c of clients) c.close();
  await proxy.close();

  expect(reconnects).toBeGreaterThanOrEqual(200);
  expect(clients.flatMap((c) => c.errors.filter((e) => e.terminal))).toEqual([]);
  expect(
    violationsOf(
      checkLog(topic, head, events),
      ...clients.map((c, i) => checkDeliveries(`client ${i}`, c.seqs, { expected: seqsUpTo(head) })),
    ),
  ).toEqual([]);
});
