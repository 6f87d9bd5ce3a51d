import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { acceptedEvent } from "../../protocol/mesh-event.ts";
import { allEvents, event, freshTopic, history, info, post, publish, request, topicStub } from "./topic-client.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("publish: the three CloudEvents modes", () => {
  it("structured mode: 201 with id, source, seq and duplicate; the event is stored as given plus seq", async () => {
    const topic = freshTopic("structured");
    const sent = event("s1", {
      subject: "user/1",
      datacontenttype: "application/json",
      dataschema: "https://example.com/schema.json",
      data: { n: 1 },
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "k=v",
      correlationid: "flow-1",
      causationid: "cause-1",
      tenant: "acme",
      seq: 999,
    });
    const res = await post(topic, sent, "application/cloudevents+json");
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      topic,
      events: [{ id: "s1", source: "/tests", seq: 1, duplicate: false }],
    });
    const [stored] = (await history(topic)).events;
    const { seq: _sent, ...kept } = sent;
    // Plus who published it (CloudEvents authcontext), set by the mesh from the key.
    expect(stored).toEqual({ ...kept, time: expect.any(String), seq: 1, authtype: "api_key", authid: "test-admin" });
    expect(Date.now() - Date.parse(String(stored.time))).toBeLessThan(60_000);
  });

  it("keeps a time the publisher set", async () => {
    const topic = freshTopic("time");
    await publish(topic, event("t1", { time: "2021-06-01T12:00:00.5+02:00" }));
    expect((await history(topic)).events[0].time).toBe("2021-06-01T12:00:00.5+02:00");
  });

  it("batch mode: one answer per event, consecutive seqs, in the order sent", async () => {
    const topic = freshTopic("batch");
    const res = await post(topic, [event("b1"), event("b2"), event("b3")], "application/cloudevents-batch+json");
    expect(res.status).toBe(201);
    const body = await res.json<{ events: { id: string; seq: number }[] }>();
    expect(body.events.map((e) => [e.id, e.seq])).toEqual([
      ["b1", 1],
      ["b2", 2],
      ["b3", 3],
    ]);
    expect((await allEvents(topic)).map((e) => e.id)).toEqual(["b1", "b2", "b3"]);
  });

  it("binary mode: attributes from ce-* headers, the body as data", async () => {
    const topic = freshTopic("binary");
    const res = await post(topic, { amount: 3 }, "application/json", {
      "ce-id": "bin-1",
      "ce-source": "/billing",
      "ce-type": "InvoicePaid",
      "ce-specversion": "1.0",
      "ce-subject": "invoice%2F7",
      "ce-traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    expect(res.status).toBe(201);
    expect((await history(topic)).events[0]).toMatchObject({
      id: "bin-1",
      source: "/billing",
      type: "InvoicePaid",
      subject: "invoice/7",
      datacontenttype: "application/json",
      data: { amount: 3 },
      seq: 1,
    });
  });

  it("binary mode keeps non-text data byte for byte", async () => {
    const topic = freshTopic("binary-bytes");
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    const res = await request(`/v1/topics/${topic}/events`, {
      method: "POST",
      headers: {
        "content-type": "application/octet-stream",
        "ce-id": "raw",
        "ce-source": "/s",
        "ce-type": "Blob",
        "ce-specversion": "1.0",
      },
      body: bytes,
    });
    expect(res.status).toBe(201);
    const stored = (await history(topic)).events[0];
    const decoded = Uint8Array.from(atob(String(stored.data_base64)), (c) => c.charCodeAt(0));
    expect([...decoded]).toEqual([...bytes]);
  });

  it("accepts a catalog event whose data matches its schema", async () => {
    const topic = freshTopic("catalog");
    const res = await post(
      topic,
      event("u1", { type: "MemberJoined", data: { userId: "u1", name: "Ada", email: "ada@example.com" } }),
    );
    expect(res.status).toBe(201);
  });
});

describe("the topic's sequence", () => {
  it("stays contiguous under 100 concurrent publishes to one topic", async () => {
    const topic = freshTopic("concurrent");
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => publish(topic, event(`c${i}`))));
    const seqs = answers.map((a) => a.events[0].seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const stored = await allEvents(topic);
    expect(stored.map((e) => e.seq)).toEqual(seqs);
    // Each answer names the seq its own event was stored at.
    const byId = new Map(stored.map((e) => [e.id, e.seq]));
    for (const [i, a] of answers.entries()) expect(byId.get(`c${i}`)).toBe(a.events[0].seq);
    expect(await info(topic)).toMatchObject({ head: 100, oldest: 1, eventCount: 100 });
  });

  it("stays contiguous when concurrent batches interleave, each batch's seqs consecutive", async () => {
    const topic = freshTopic("concurrent-batches");
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, b) =>
        publish(
          topic,
          Array.from({ length: 10 }, (_, i) => event(`b${b}-${i}`)),
        ),
      ),
    );
    for (const a of answers) {
      const seqs = a.events.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 10 }, (_, i) => seqs[0] + i));
    }
    expect((await allEvents(topic)).map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });
});

describe("batch atomicity", () => {
  it("a bad event anywhere in a batch refuses the whole batch and stores nothing", async () => {
    const topic = freshTopic("atomic");
    await publish(topic, event("before"));
    const bad = [
      event("a1"),
      event("a2"),
      event("a3", { type: "MemberJoined", data: { userId: "u", name: "N", email: "no" } }),
    ];
    const res = await post(topic, bad, "application/cloudevents-batch+json");
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: "schema_mismatch", index: 2 } });
    expect(await info(topic)).toMatchObject({ head: 1, eventCount: 1 });
    // None of the refused ids was remembered: sending them again stores them, right after the head.
    const again = await publish(topic, [event("a1"), event("a2")]);
    expect(again.events).toEqual([
      { id: "a1", source: "/tests", seq: 2, duplicate: false },
      { id: "a2", source: "/tests", seq: 3, duplicate: false },
    ]);
  });

  it("a storage failure inside the append rolls back every event of the call", async () => {
    const topic = freshTopic("rollback");
    await publish(topic, event("kept"));
    const outcome = await runInDurableObject(topicStub(topic), async (_instance, state) => {
      const { LogStore } = await import("../../durable-objects/log-store.ts");
      const store = new LogStore(state.storage.sql, state.storage);
      // The third event is past SQLite's row size limit: the write throws after two rows were inserted.
      const events = [event("x1"), event("x2"), event("x3", { data: "x".repeat(3_000_000) })].map(acceptedEvent);
      try {
        store.append(events, Date.now(), 86_400);
        return "appended";
      } catch {
        return { head: store.head, rows: store.read(0, 10).map((r) => r.seq) };
      }
    });
    expect(outcome).toEqual({ head: 1, rows: [1] });
    expect((await publish(topic, event("next"))).events[0].seq).toBe(2);
  });
});

describe("idempotent publish: (source, id) inside the dedup window", () => {
  it("sequential repeat: stores nothing, answers 200 with the original seq and duplicate: true", async () => {
    const topic = freshTopic("dedup");
    await publish(topic, event("first"));
    const first = await post(topic, event("dup", { data: 1 }));
    expect(first.status).toBe(201);
    const repeat = await post(topic, event("dup", { data: "changed payload, same identity" }));
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toEqual({
      topic,
      events: [{ id: "dup", source: "/tests", seq: 2, duplicate: true }],
    });
    expect(await info(topic)).toMatchObject({ head: 2 });
    expect((await history(topic)).events[1].data).toBe(1);
  });

  it("the same id from another source is another event", async () => {
    const topic = freshTopic("dedup-source");
    await publish(topic, event("same", { source: "/a" }));
    const other = await publish(topic, event("same", { source: "/b" }));
    expect(other.events[0]).toMatchObject({ seq: 2, duplicate: false });
  });

  it("a batch mixing new and known events answers 201 and stores only the new ones", async () => {
    const topic = freshTopic("dedup-mixed");
    await publish(topic, event("old"));
    const res = await post(topic, [event("new1"), event("old"), event("new2"), event("new1")]);
    expect(res.status).toBe(201);
    expect((await res.json<{ events: unknown[] }>()).events).toEqual([
      { id: "new1", source: "/tests", seq: 2, duplicate: false },
      { id: "old", source: "/tests", seq: 1, duplicate: true },
      { id: "new2", source: "/tests", seq: 3, duplicate: false },
      { id: "new1", source: "/tests", seq: 2, duplicate: true },
    ]);
    expect((await allEvents(topic)).map((e) => e.id)).toEqual(["old", "new1", "new2"]);
  });

  it("a batch longer than one claim statement, with repeats across its chunks, numbers its new events without holes", async () => {
    const topic = freshTopic("dedup-chunks");
    await publish(topic, [event("known-a"), event("known-b")]);
    // 60 events: keys are claimed 24 to a statement, and here repeats fall in the first, second and third.
    const ids = Array.from({ length: 60 }, (_, i) => `c${i}`);
    ids[10] = "known-a";
    ids[30] = "c5";
    ids[50] = "known-b";
    ids[55] = "c40";
    const res = await post(
      topic,
      ids.map((id) => event(id)),
    );
    const answered = (await res.json<{ events: { id: string; seq: number; duplicate: boolean }[] }>()).events;
    const fresh = answered.filter((e) => !e.duplicate);
    expect(fresh.map((e) => e.seq)).toEqual(Array.from({ length: 56 }, (_, i) => 3 + i));
    expect(answered[10]).toMatchObject({ seq: 1, duplicate: true });
    expect(answered[30]).toMatchObject({ seq: answered[5]?.seq, duplicate: true });
    expect(answered[50]).toMatchObject({ seq: 2, duplicate: true });
    expect(answered[55]).toMatchObject({ seq: answered[40]?.seq, duplicate: true });
    // The keys remember the seqs they were answered with: repeating the whole batch stores nothing.
    const again = await post(
      topic,
      ids.map((id) => event(id)),
    );
    expect(again.status).toBe(200);
    expect((await again.json<{ events: { seq: number }[] }>()).events.map((e) => e.seq)).toEqual(
      answered.map((e) => e.seq),
    );
    expect(await info(topic)).toMatchObject({ head: 58, eventCount: 58 });
  });

  it("concurrent repeats of one event store it once and all name the same seq", async () => {
    const topic = freshTopic("dedup-concurrent");
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(topic, event("race"))));
    const answers = await Promise.all(
      responses.map((r) => r.json<{ events: { seq: number; duplicate: boolean }[] }>()),
    );
    expect(answers.filter((a) => !a.events[0].duplicate)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.events[0].seq))).toEqual(new Set([1]));
    expect(responses.map((r) => r.status).sort((a, b) => a - b)).toEqual([...Array(19).fill(200), 201]);
    expect(await info(topic)).toMatchObject({ head: 1, eventCount: 1 });
  });

  it("survives a restart of the topic's Durable Object", async () => {
    const topic = freshTopic("dedup-restart");
    await publish(topic, [event("r1"), event("r2")]);
    await runInDurableObject(topicStub(topic), (instance) => {
      (instance as unknown as { probe: string }).probe = "old instance";
    });
    await abortAllDurableObjects();
    // Stubs do not outlive the abort; a new one reaches a new instance over the same storage.
    const fresh = await runInDurableObject(
      topicStub(topic),
      (instance) => (instance as unknown as { probe?: string }).probe,
    );
    expect(fresh).toBeUndefined();
    const repeat = await post(topic, event("r2"));
    expect(repeat.status).toBe(200);
    expect((await repeat.json<{ events: unknown[] }>()).events).toEqual([
      { id: "r2", source: "/tests", seq: 2, duplicate: true },
    ]);
    expect((await publish(topic, event("r3"))).events[0].seq).toBe(3);
  });

  it("an id older than the dedup window is a new event", async () => {
    const topic = freshTopic("dedup-window");
    await publish(topic, event("w"));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 86_400_000 + 1_000);
    const again = await publish(topic, event("w"));
    expect(again.events[0]).toMatchObject({ seq: 2, duplicate: false });
    // And from then on the new seq is the one a repeat is answered with.
    expect((await publish(topic, event("w"))).events[0]).toMatchObject({ seq: 2, duplicate: true });
  });
});
