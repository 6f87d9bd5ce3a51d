import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { LogStore } from "../../durable-objects/log-store.ts";
import { topicDirectory } from "../../durable-objects/topic-directory.ts";
import { subscribeFrameText } from "../../protocol/frames.ts";
import type { TopicStats } from "../../protocol/responses.ts";
import { collect, type Socket } from "./support/socket.ts";
import { event, freshTopic, publish, publishCount, request, topicStub } from "./topic-client.ts";

/** A hub name no other test uses: its object holds no socket, so it follows no topic. */
const freshHub = () => `hub-test-${crypto.randomUUID().slice(0, 8)}`;

const attachedHubs = (topic: string) =>
  runInDurableObject(topicStub(topic), (_instance, state) =>
    state.storage.sql
      .exec<{ hub: string }>("SELECT hub FROM hubs ORDER BY hub")
      .toArray()
      .map((row) => row.hub),
  );

const hubsDue = (topic: string) =>
  runInDurableObject(
    topicStub(topic),
    (_instance, state) =>
      state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'hubs_due'").toArray()[0]?.value,
  );

async function stats(topic: string): Promise<TopicStats> {
  return (await request(`/v1/topics/${topic}/stats`)).json();
}

describe("hubs attached to a topic", () => {
  it("registers an attaching hub durably, answers where the log stands, and forgets it on detach", async () => {
    const topic = freshTopic("hub-attach");
    await publish(topic, [event("a"), event("b"), event("c")]);
    const hub = freshHub();
    const attached = await topicStub(topic).attachHub(topic, { hub, known: null });
    expect(attached).toMatchObject({ head: 3, oldest: 1 });
    expect(attached.epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect(await attachedHubs(topic)).toEqual([hub]);
    expect(await stats(topic)).toMatchObject({ hubs: 1 });

    await topicStub(topic).detachHub(topic, hub);
    expect(await attachedHubs(topic)).toEqual([]);
    expect(await stats(topic)).toMatchObject({ hubs: 0 });
  });

  it("forgets a hub at the first push it answers with not_subscribed", async () => {
    const topic = freshTopic("hub-forget");
    const hub = freshHub();
    await topicStub(topic).attachHub(topic, { hub, known: null });
    await publish(topic, event("a"));
    await expect.poll(() => attachedHubs(topic)).toEqual([]);
  });

  it("after a restart, the alarm asks every registered hub where it stands, even with nothing published", async () => {
    const topic = freshTopic("hub-restart");
    await publish(topic, event("a"));
    const hub = freshHub();
    await topicStub(topic).attachHub(topic, { hub, known: null });
    await abortAllDurableObjects();

    // The restarted object owes its hubs a check, soon, on its alarm.
    expect(await stats(topic)).toMatchObject({ hubs: 1 });
    const due = Number(await hubsDue(topic));
    expect(due).toBeGreaterThan(0);
    expect(await runInDurableObject(topicStub(topic), (_i, state) => state.storage.getAlarm())).toBeLessThanOrEqual(
      due,
    );

    // The probe reaches the hub; it follows no socket of the topic, so the topic forgets it.
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    expect(await attachedHubs(topic)).toEqual([]);
    expect(await hubsDue(topic)).toBeUndefined();
  });
});

describe("readPage: the log for a hub serving a resuming socket", () => {
  it("pages through the log with next and more, at most the replay page size at a time", async () => {
    const topic = freshTopic("hub-page");
    await publishCount(topic, 25);
    const stub = topicStub(topic);

    // REPLAY_PAGE_SIZE is 10 in the tests: a larger limit is cut to it.
    const first = await stub.readPage(topic, 0, 100);
    expect(first).toMatchObject({ ok: true, head: 25, oldest: 1, next: 10, more: true });
    if (!first.ok) throw new Error("refused");
    expect(first.rows.map((row) => row.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(JSON.parse(first.rows[0].body)).toMatchObject({ type: "Thing" });

    const small = await stub.readPage(topic, 20, 3);
    expect(small).toMatchObject({ ok: true, next: 23, more: true });
    const last = await stub.readPage(topic, 20, 10);
    expect(last).toMatchObject({ ok: true, next: 25, more: false });
    if (!last.ok) throw new Error("refused");
    expect(last.rows.map((row) => row.seq)).toEqual([21, 22, 23, 24, 25]);

    expect(await stub.readPage(topic, 25, 10)).toMatchObject({ ok: true, rows: [], next: 25, more: false });
    expect(await stub.readPage(topic, 26, 10)).toEqual({ ok: false, code: "cursor_ahead", head: 25 });
  });

  it("filters by type, its next still moving past the rows it skipped", async () => {
    const topic = freshTopic("hub-page-types");
    await publish(topic, [
      event("a", { type: "Kept" }),
      event("b", { type: "Other" }),
      event("c", { type: "Kept" }),
      event("d", { type: "Other" }),
    ]);
    const page = await topicStub(topic).readPage(topic, 0, 10, ["Kept"]);
    expect(page).toMatchObject({ ok: true, next: 4, more: false });
    if (!page.ok) throw new Error("refused");
    expect(page.rows.map((row) => row.seq)).toEqual([1, 3]);
  });

  it("reads from the oldest retained event for a cursor older than it", async () => {
    const topic = freshTopic("hub-page-trimmed");
    await publishCount(topic, 8);
    await runInDurableObject(topicStub(topic), (instance) => {
      (instance as unknown as { store: LogStore }).store.trimStep(5, 0, 100);
    });
    const page = await topicStub(topic).readPage(topic, 2, 10);
    expect(page).toMatchObject({ ok: true, oldest: 6, head: 8, next: 8, more: false });
    if (!page.ok) throw new Error("refused");
    expect(page.rows.map((row) => row.seq)).toEqual([6, 7, 8]);
  });
});

describe("the topic directory's hubs", () => {
  it("lists registered hubs once each, in name order, a page at a time", async () => {
    const directory = topicDirectory(env);
    const prefix = `hub-dir-${crypto.randomUUID().slice(0, 8)}`;
    for (const name of [`${prefix}-2`, `${prefix}-0`, `${prefix}-1`, `${prefix}-0`]) await directory.registerHub(name);
    const all = (await directory.listHubs(prefix, 1000)).filter((name) => name.startsWith(prefix));
    expect(all).toEqual([`${prefix}-0`, `${prefix}-1`, `${prefix}-2`]);
    expect(await directory.listHubs(`${prefix}-0`, 1)).toEqual([`${prefix}-1`]);
  });
});

describe("pushes reaching a real hub", () => {
  const eventSeqs = (socket: Socket) =>
    socket.frames.flatMap((frame) =>
      frame.type === "event" ? [frame.event.seq] : frame.type === "events" ? frame.events.map((e) => e.seq) : [],
    );

  it("each committed append reaches the hub's socket once and in order, across a restart of the topic's object", async () => {
    const topic = freshTopic("hub-push");
    await publish(topic, event("before"));
    const socket = collect(await request(`/v1/ws?key=${topic}`, { headers: { upgrade: "websocket" } }));
    socket.ws.send(subscribeFrameText({ topic, after: 0 }));
    await socket.until((frames) => frames.some((f) => f.type === "caught-up"), "caught-up");
    expect(await stats(topic)).toMatchObject({ hubs: 1 });

    for (const id of ["a", "b", "c"]) await publish(topic, event(id));
    await socket.until(() => eventSeqs(socket).length >= 4, "events 1-4");

    // The topic's object restarts: it knows its hub but not where the hub stands.
    await runInDurableObject(topicStub(topic), (_instance, state) => {
      try {
        state.abort("test restart");
      } catch {
        // abort() ends the object with an error by design.
      }
    }).catch(() => undefined);
    await publish(topic, [event("d"), event("e")]);
    await socket.until(() => eventSeqs(socket).length >= 6, "events 5-6");
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    expect(await hubsDue(topic)).toBeUndefined();
    expect(eventSeqs(socket)).toEqual([1, 2, 3, 4, 5, 6]);
    socket.ws.close(1000);
  });
});
