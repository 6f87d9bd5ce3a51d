import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { deadLetterStore } from "../../durable-objects/dead-letter-store.ts";
import type { DeadLetterList } from "../../protocol/dead-letter-api.ts";
import type { DeadLetter } from "../../protocol/dead-letters.ts";
import type { QueueMessage } from "../../protocol/queue-message.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import {
  callsOf,
  captureLogsOfEachTest,
  drainQueue,
  effectsOf,
  MAILER,
  welcomeMessage,
} from "./support/test-consumers.ts";

const api = (path: string, init?: RequestInit) => meshFetch(`http://mesh${path}`, init);
const errorCode = async (res: Response) => (await res.json<{ error: { code: string } }>()).error.code;

/** Puts a queue dead letter straight into the store, as the DLQ consumer would. */
async function seed(consumer: string, message: QueueMessage, lastFailureAt: string): Promise<DeadLetter> {
  return deadLetterStore(env).record({
    consumer,
    topic: message.topic,
    seq: message.seq,
    source: message.event.source,
    eventId: message.event.id,
    event: message.event as DeadLetter["event"],
    message: JSON.stringify(message),
    attempts: 4,
    lastError: `Error: ${consumer} broke`,
    firstFailureAt: "2026-01-01T00:00:00.000Z",
    lastFailureAt,
  });
}

async function list(query: string): Promise<DeadLetterList> {
  const res = await api(`/v1/dead-letters${query}`);
  expect(res.status).toBe(200);
  return res.json<DeadLetterList>();
}

const logs = captureLogsOfEachTest();

describe("GET /v1/dead-letters", () => {
  it("lists queue dead letters in the order they were recorded and filters by topic, consumer and kind", async () => {
    const a = await seed("api-alpha", welcomeMessage("api-orders"), "2026-01-02T00:00:00.000Z");
    const b = await seed("api-beta", welcomeMessage("api-orders"), "2026-01-03T00:00:00.000Z");
    const c = await seed("api-alpha", welcomeMessage("api-payments"), "2026-01-04T00:00:00.000Z");

    expect((await list("?topic=api-orders")).deadLetters.map((d) => d.id)).toEqual([a.id, b.id]);
    expect((await list("?consumer=api-alpha")).deadLetters.map((d) => d.id)).toEqual([a.id, c.id]);
    expect((await list("?consumer=api-alpha&topic=api-payments")).deadLetters).toEqual([c]);
    expect((await list("?kind=queue&topic=api-orders")).deadLetters).toHaveLength(2);
    const page = await list("?consumer=api-alpha&limit=1");
    expect(page).toEqual({ deadLetters: [a], more: true, next: expect.any(String) });
    expect(await list("?consumer=api-alpha&limit=2")).toMatchObject({ more: false, next: null });
  });

  it("refuses bad filters with invalid_query", async () => {
    for (const query of [
      "?kind=bogus",
      "?limit=0",
      "?limit=1001",
      "?limit=ten",
      "?topic=bad%20topic",
      "?consumer=Bad:Name",
      "?subscription=a:b",
      "?subscription=s1&consumer=c1",
      "?subscription=s1&kind=queue",
      "?consumer=c1&kind=subscription",
    ]) {
      const res = await api(`/v1/dead-letters${query}`);
      expect(res.status, query).toBe(400);
      expect(await errorCode(res), query).toBe("invalid_query");
    }
  });
});

describe("GET and DELETE /v1/dead-letters/:id", () => {
  it("inspects one dead letter, deletes it, and then knows it no more", async () => {
    const dead = await seed("api-gamma", welcomeMessage("api-inspect"), "2026-01-05T00:00:00.000Z");
    const res = await api(`/v1/dead-letters/${dead.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(dead);

    expect((await api(`/v1/dead-letters/${dead.id}`, { method: "DELETE" })).status).toBe(204);
    for (const init of [undefined, { method: "DELETE" }]) {
      const gone = await api(`/v1/dead-letters/${dead.id}`, init);
      expect(gone.status).toBe(404);
      expect(await errorCode(gone)).toBe("dead_letter_not_found");
    }
    expect((await list("?consumer=api-gamma")).deadLetters).toEqual([]);
  });

  it("answers 404 for ids that do not exist or cannot exist", async () => {
    for (const id of ["queue:api-gamma:999999", "queue:Bad:1", "nope", "queue:x:0", "sub:bad topic:s:1"]) {
      const res = await api(`/v1/dead-letters/${encodeURIComponent(id)}`);
      expect(res.status, id).toBe(404);
      expect(await errorCode(res), id).toBe("dead_letter_not_found");
    }
  });
});

describe("POST /v1/dead-letters/redrive", () => {
  const post = (body: string, contentType = "application/json") =>
    api("/v1/dead-letters/redrive", { method: "POST", headers: { "content-type": contentType }, body });

  it("refuses a bad body and changes nothing", async () => {
    const dead = await seed("api-delta", welcomeMessage("api-redrive"), "2026-01-06T00:00:00.000Z");
    const cases: [Response, number, string][] = [
      [await post(JSON.stringify({ ids: [dead.id] }), "text/plain"), 415, "unsupported_media_type"],
      [await post("{not json"), 400, "malformed_json"],
      [await post(JSON.stringify({ ids: [] })), 400, "invalid_body"],
      [await post(JSON.stringify({ ids: "all" })), 400, "invalid_body"],
      [await post(JSON.stringify({ ids: [dead.id, "nope"] })), 400, "invalid_body"],
      [
        await post(JSON.stringify({ ids: Array.from({ length: 101 }, (_, i) => `queue:x:${i + 1}`) })),
        400,
        "invalid_body",
      ],
      [await post(JSON.stringify({ ids: [dead.id, "queue:api-delta:999999"] })), 404, "dead_letter_not_found"],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect(await errorCode(res)).toBe(code);
    }
    // Nothing was sent: the entry is still there and no redrive was logged.
    expect((await api(`/v1/dead-letters/${dead.id}`)).status).toBe(200);
    expect(logs.lines().filter((l) => l.msg === "queue dead letter redrive" && l.eventId === dead.event.id)).toEqual(
      [],
    );
  });

  it("redrives several dead letters to their consumer, each of which leaves the store once processed", async () => {
    const messages = [welcomeMessage("api-redrive"), welcomeMessage("api-redrive")];
    const dead = await Promise.all(messages.map((m, i) => seed(MAILER, m, `2026-01-0${i + 7}T00:00:00.000Z`)));
    const res = await post(JSON.stringify({ ids: dead.map((d) => d.id) }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ redriven: dead.map((d) => d.id) });

    await vi.waitFor(
      async () => expect((await list(`?consumer=${MAILER}&topic=api-redrive`)).deadLetters).toEqual([]),
      {
        timeout: 15_000,
      },
    );
    await drainQueue(logs);
    for (const m of messages) {
      expect(callsOf(MAILER, m.event.id)).toBe(1);
      expect(effectsOf(MAILER, m.event.id)).toBe(1);
    }
  });
});

describe("methods", () => {
  it("answers 405 with the allowed methods", async () => {
    const cases: [string, string, string][] = [
      ["POST", "/v1/dead-letters", "GET"],
      ["GET", "/v1/dead-letters/redrive", "POST"],
      ["DELETE", "/v1/dead-letters/redrive", "POST"],
      ["PUT", "/v1/dead-letters/queue:x:1", "GET, DELETE"],
      ["GET", "/v1/dead-letters/queue:x:1/redrive", "POST"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await api(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect(await errorCode(res)).toBe("method_not_allowed");
    }
  });
});
