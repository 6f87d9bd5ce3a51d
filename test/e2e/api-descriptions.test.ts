import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { ADMIN_AUTH, KEYS } from "../support/credentials.ts";
import { type LocalHttp, startLocalHttp } from "../support/local-http.ts";
import { LocalServer } from "../support/local-server.ts";
import {
  asyncApiMetaErrors,
  DeclaredMessages,
  DeclaredResponses,
  openApiMetaErrors,
  schemaObjectErrors,
} from "./api-docs/document-validators.ts";

/**
 * The descriptions the mesh serves, checked against the official meta-schemas and against the live
 * server: every route of the table is documented and every documented route is served; each route
 * is called (successes and refusals), and every body it answers, and every frame the socket sends,
 * must match the schema the document declares for it.
 */

// The route table imports the Durable Object classes, whose base class only workerd provides; the
// table itself is plain data. Its path is not a literal so the Node type-check leaves the Worker's
// modules (which need the Workers types) alone; the shape read from it is declared below.
vi.mock("cloudflare:workers", () => ({ DurableObject: class {} }));
const ROUTE_TABLE = "../../worker/routes/route-table.ts";
type DeclaredRoute = { method: string; path: string; operationId: string };

type Json = { [key: string]: unknown };
type Method = "GET" | "POST" | "PUT" | "DELETE";

const server = new LocalServer();
/** A webhook receiver that refuses everything, so deliveries become dead letters. */
let refusingReceiver: LocalHttp;
let openApi: Json;
let asyncApi: Json;
let responses: DeclaredResponses;
let messages: DeclaredMessages;
/** `METHOD /path/{template}` of every operation called, to prove each was. */
const called = new Set<string>();

beforeAll(async () => {
  refusingReceiver = await startLocalHttp(
    async (_req, res) => {
      res.writeHead(500).end("refused on purpose");
    },
    (_err, res) => res.writeHead(500).end(),
  );
  await server.start();
  openApi = await (await fetch(`${server.url}/v1/openapi.json`)).json();
  asyncApi = await (await fetch(`${server.url}/v1/asyncapi.json`)).json();
  responses = new DeclaredResponses(openApi);
  messages = new DeclaredMessages(asyncApi);
});

afterAll(async () => {
  await server.dispose();
  await refusingReceiver?.stop();
});

const EVENTS = "/v1/topics/{topic}/events";
const TOPIC = "/v1/topics/{topic}";
const SOCKET = "/v1/topics/{topic}/ws";
const SUBSCRIPTIONS = "/v1/topics/{topic}/subscriptions";
const SUBSCRIPTION = "/v1/topics/{topic}/subscriptions/{name}";
const DEAD_LETTER = "/v1/dead-letters/{id}";

interface Call {
  params?: Record<string, string>;
  query?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as it is, with its own content type in `headers`. */
  raw?: string;
  headers?: Record<string, string>;
  /** The credential's headers; the admin key's by default, none with `null`. */
  auth?: Record<string, string> | null;
}

/**
 * Calls a documented operation and checks the answer against the document: the status must be one
 * it declares for the operation, and the body must match the schema declared for that status (or be
 * empty when it declares none). Returns the parsed body.
 */
async function answer(expected: number, method: Method, template: string, call: Call = {}): Promise<unknown> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(call.params?.[name] ?? ""));
  const res = await fetch(`${server.url}${path}${call.query ?? ""}`, {
    method,
    headers: {
      ...(call.auth === undefined ? ADMIN_AUTH : (call.auth ?? {})),
      ...(call.json === undefined ? {} : { "content-type": "application/json" }),
      ...call.headers,
    },
    body: call.raw ?? (call.json === undefined ? undefined : JSON.stringify(call.json)),
  });
  const text = await res.text();
  const what = `${method} ${path}${call.query ?? ""} answered ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, what).toBe(expected);
  const declared = responses.response(method, template, res.status);
  expect(declared, `${what}: status not in the document`).toBeDefined();
  called.add(`${method} ${template}`);
  if (declared?.content === undefined) {
    expect(text, what).toBe("");
    return undefined;
  }
  expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(text);
  expect(responses.errors(method, template, res.status, body), what).toEqual([]);
  return body;
}

const event = (id: string, type: string, data: unknown, extra: Json = {}) => ({
  specversion: "1.0",
  id,
  source: "/api-descriptions",
  type,
  data,
  ...extra,
});
const member = (n: number) => ({ userId: `u-${n}`, name: `Ada ${n}`, email: `ada${n}@example.com` });

describe("the served descriptions", () => {
  it("the OpenAPI document passes the official OpenAPI 3.1 schema, each Schema Object JSON Schema 2020-12", () => {
    expect(openApiMetaErrors(openApi)).toEqual([]);
    expect(schemaObjectErrors(openApi)).toEqual([]);
  });

  it("the AsyncAPI document passes the official AsyncAPI 3.0 schema", () => {
    expect(asyncApiMetaErrors(asyncApi)).toEqual([]);
  });

  it("documents every route of the table with its method, and no path the table does not serve", async () => {
    const { ROUTES } = (await import(/* @vite-ignore */ ROUTE_TABLE)) as { ROUTES: DeclaredRoute[] };
    const fromTable = ROUTES.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`).sort();
    const paths = openApi.paths as Record<string, Record<string, Json>>;
    const documented = Object.entries(paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(fromTable);
    const operationIds = Object.values(paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(operationIds).size, "operationIds are unique").toBe(operationIds.length);
    expect(operationIds.sort()).toEqual(ROUTES.map((r) => r.operationId).sort());
  });

  it("describes this deployment: its origin and host, and its catalog's data schemas", () => {
    expect(openApi.servers).toEqual([{ url: server.url }]);
    expect(asyncApi.servers).toMatchObject({ mesh: { host: new URL(server.url).host, protocol: "ws" } });
    for (const doc of [openApi, asyncApi]) {
      const schemas = (doc.components as { schemas: Json }).schemas;
      for (const type of ["MemberJoined", "GreetingSent", "AttemptFailed"]) {
        expect(schemas[`EventData.${type}`], type).toMatchObject({ type: "object" });
      }
    }
  });
});

describe("every route answers as its description says", () => {
  const topic = { topic: "api-docs" };

  it("publishes in the three modes, and refuses what it must", async () => {
    await answer(201, "POST", EVENTS, { params: topic, json: event("e-1", "MemberJoined", member(1)) });
    await answer(201, "POST", EVENTS, {
      params: topic,
      raw: JSON.stringify([
        event("e-2", "MemberJoined", member(2), { correlationid: "flow-1", priority: 5, urgent: true }),
        event("e-3", "Note", { text: "Grüße 👋 漢字 \u2028", nested: { list: [1, [2, { three: null }]] } }),
      ]),
      headers: { "content-type": "application/cloudevents-batch+json" },
    });
    await answer(201, "POST", EVENTS, {
      params: topic,
      raw: "shelf 7, bin 3",
      headers: {
        "content-type": "text/plain",
        "ce-specversion": "1.0",
        "ce-id": "e-4",
        "ce-source": "/warehouse",
        "ce-type": "PickListPrinted",
        "ce-subject": "order%2Fo-1",
      },
    });
    expect(
      await answer(200, "POST", EVENTS, { params: topic, json: event("e-1", "MemberJoined", member(1)) }),
    ).toMatchObject({ events: [{ seq: 1, duplicate: true }] });
    await answer(422, "POST", EVENTS, {
      params: topic,
      json: event("e-5", "MemberJoined", { ...member(5), email: "not-an-address" }),
    });
    await answer(400, "POST", EVENTS, { params: topic, json: { specversion: "1.0", source: "/x", type: "T" } });
    await answer(400, "POST", EVENTS, { params: topic, raw: "{", headers: { "content-type": "application/json" } });
    await answer(415, "POST", EVENTS, {
      params: topic,
      raw: "<event/>",
      headers: { "content-type": "application/xml" },
    });
    await answer(413, "POST", EVENTS, { params: topic, json: event("e-6", "Big", "x".repeat(70_000)) });
    await answer(400, "POST", EVENTS, { params: { topic: "-not-a-topic" }, json: event("e-7", "T", 1) });
    await answer(401, "POST", EVENTS, { params: topic, json: event("e-8", "T", 1), auth: null });
    await answer(403, "POST", EVENTS, {
      params: topic,
      json: event("e-9", "T", 1),
      auth: { authorization: `Bearer ${KEYS.reader.secret}` },
    });
  });

  it("reads pages, topic info and the topic list", async () => {
    const page = (await answer(200, "GET", EVENTS, { params: topic, query: "?after=0&limit=2" })) as Json;
    expect(page).toMatchObject({ head: 4, next: 2, more: true });
    await answer(200, "GET", EVENTS, { params: topic, query: "?after=2&type=PickListPrinted,Note" });
    await answer(409, "GET", EVENTS, { params: topic, query: "?after=999" });
    await answer(400, "GET", EVENTS, { params: topic, query: "?limit=many" });
    await answer(200, "GET", TOPIC, { params: topic });
    expect(await answer(200, "GET", `${TOPIC}/stats`, { params: topic })).toMatchObject({ topic: "api-docs" });
    expect(await answer(200, "GET", `${TOPIC}/presence`, { params: topic, query: "?limit=10" })).toMatchObject({
      next: null,
    });
    await answer(400, "GET", `${TOPIC}/presence`, { params: topic, query: "?limit=0" });
    await answer(403, "GET", TOPIC, { params: topic, auth: { authorization: `Bearer ${KEYS.usersPublisher.secret}` } });
    await answer(200, "GET", "/v1/topics");
    await answer(401, "GET", "/v1/topics", { auth: { authorization: "Bearer not-a-key" } });
    await answer(426, "GET", SOCKET, { params: topic });
    await answer(426, "GET", "/v1/ws");
  });

  it("creates, reads, pauses, moves and deletes a subscription, and refuses what it must", async () => {
    const subs = { topic: "api-docs-subs" };
    const audit = { ...subs, name: "audit" };
    await answer(201, "POST", EVENTS, { params: subs, json: event("s-1", "Note", { n: 1 }) });
    const webhook = { type: "webhook", url: `${refusingReceiver.url}/hook` };
    await answer(201, "PUT", SUBSCRIPTION, { params: audit, json: { target: webhook, start: "latest" } });
    await answer(200, "PUT", SUBSCRIPTION, { params: audit, json: { target: webhook, batchSize: 10 } });
    await answer(400, "PUT", SUBSCRIPTION, { params: { ...subs, name: "bad!name" }, json: { target: webhook } });
    await answer(415, "PUT", SUBSCRIPTION, { params: audit, raw: "{}", headers: { "content-type": "text/plain" } });
    await answer(400, "PUT", SUBSCRIPTION, { params: audit, json: { target: { type: "carrier-pigeon" } } });
    await answer(422, "PUT", SUBSCRIPTION, {
      params: audit,
      json: { target: { type: "queue", queue: "NO_SUCH_QUEUE" } },
    });
    await answer(422, "PUT", SUBSCRIPTION, {
      params: audit,
      json: { target: { type: "webhook", url: "http://user:secret@127.0.0.1:9/hook" } },
    });
    await answer(409, "PUT", SUBSCRIPTION, {
      params: { ...subs, name: "ahead" },
      json: { target: webhook, start: { seq: 99 } },
    });
    await answer(200, "GET", SUBSCRIPTION, { params: audit });
    await answer(404, "GET", SUBSCRIPTION, { params: { ...subs, name: "nobody" } });
    await answer(200, "GET", SUBSCRIPTIONS, { params: subs });
    await answer(200, "POST", `${SUBSCRIPTION}/pause`, { params: audit });
    await answer(200, "POST", `${SUBSCRIPTION}/seek`, { params: audit, json: { to: "latest" } });
    await answer(409, "POST", `${SUBSCRIPTION}/seek`, { params: audit, json: { to: 99 } });
    await answer(400, "POST", `${SUBSCRIPTION}/seek`, { params: audit, json: { to: "somewhere" } });
    await answer(200, "POST", `${SUBSCRIPTION}/resume`, { params: audit });
    await answer(404, "POST", `${SUBSCRIPTION}/resume`, { params: { ...subs, name: "nobody" } });
    const rotated = await answer(200, "POST", `${SUBSCRIPTION}/rotate-secret`, { params: audit });
    expect(rotated).toMatchObject({
      secret: expect.stringMatching(/^whsec_/),
      previousSecretValidUntil: expect.any(String),
    });
    await answer(400, "POST", `${SUBSCRIPTION}/rotate-secret`, { params: audit, json: { graceSeconds: -1 } });
    expect(await answer(200, "GET", `${SUBSCRIPTION}/dead-letters`, { params: audit })).toEqual({
      deadLetters: [],
      more: false,
      next: null,
    });
    await answer(400, "GET", `${SUBSCRIPTION}/dead-letters`, { params: audit, query: "?cursor=nowhere" });
    await answer(202, "POST", `${SUBSCRIPTION}/dead-letters/redrive`, { params: audit });
    await answer(404, "POST", `${SUBSCRIPTION}/dead-letters/redrive`, { params: audit, json: { seqs: [5] } });
    await answer(403, "GET", SUBSCRIPTIONS, { params: subs, auth: { authorization: `Bearer ${KEYS.reader.secret}` } });
    await answer(204, "DELETE", SUBSCRIPTION, { params: audit });
    await answer(404, "DELETE", SUBSCRIPTION, { params: audit });
  });

  it("lists, reads, redrives and deletes dead letters of both APIs", async () => {
    const dead = { topic: "api-docs-dead" };
    const failing = { ...dead, name: "failing" };
    await answer(201, "POST", EVENTS, { params: dead, json: [event("d-1", "Note", 1), event("d-2", "Note", 2)] });
    const target = { type: "webhook", url: `${refusingReceiver.url}/hook`, timeoutMs: 2000 };
    await answer(201, "PUT", SUBSCRIPTION, {
      params: failing,
      json: { target, start: "earliest", retry: { maxAttempts: 1 } },
    });
    // The topic's alarm delivers right away; the receiver refuses, so each event becomes a dead letter.
    let letters: { id: string; seq: number }[] = [];
    const deadline = Date.now() + 30_000;
    while (letters.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      letters = ((await answer(200, "GET", `${SUBSCRIPTION}/dead-letters`, { params: failing })) as Json)
        .deadLetters as typeof letters;
    }
    expect(letters.map((d) => d.seq)).toEqual([1, 2]);
    const [first, second] = letters.map((d) => ({ id: d.id }));

    const page = (await answer(200, "GET", "/v1/dead-letters", { query: `?topic=${dead.topic}&limit=1` })) as Json;
    await answer(200, "GET", "/v1/dead-letters", {
      query: `?topic=${dead.topic}&limit=1&cursor=${encodeURIComponent(page.next as string)}`,
    });
    await answer(400, "GET", "/v1/dead-letters", { query: "?kind=postal" });
    await answer(200, "GET", DEAD_LETTER, { params: first });
    await answer(404, "GET", DEAD_LETTER, { params: { id: "queue:nobody:1" } });
    await answer(202, "POST", `${SUBSCRIPTION}/dead-letters/redrive`, { params: failing, json: { seqs: [1] } });
    await answer(202, "POST", `${DEAD_LETTER}/redrive`, { params: first });
    await answer(404, "POST", `${DEAD_LETTER}/redrive`, { params: { id: "sub:api-docs-dead:failing:99" } });
    await answer(202, "POST", "/v1/dead-letters/redrive", { json: { ids: [first.id] } });
    await answer(404, "POST", "/v1/dead-letters/redrive", { json: { ids: ["queue:nobody:1"] } });
    await answer(400, "POST", "/v1/dead-letters/redrive", { json: { ids: "all of them" } });
    await answer(204, "DELETE", DEAD_LETTER, { params: second });
    await answer(404, "DELETE", DEAD_LETTER, { params: second });
  });

  it("mints and revokes tokens and serves the public descriptions", async () => {
    const minted = (await answer(201, "POST", "/v1/tokens", { json: { topics: ["api-docs"], ttlSeconds: 60 } })) as {
      id: string;
    };
    await answer(200, "POST", "/v1/tokens/revocations", { json: { tokenId: minted.id } });
    await answer(400, "POST", "/v1/tokens/revocations", { json: { tokenId: minted.id, subject: "both" } });
    await answer(403, "POST", "/v1/tokens/revocations", {
      json: { subject: "someone" },
      auth: { authorization: `Bearer ${KEYS.notificationsMinter.secret}` },
    });
    await answer(400, "POST", "/v1/tokens", { json: { topics: [] } });
    await answer(403, "POST", "/v1/tokens", {
      json: { topics: ["users"] },
      auth: { authorization: `Bearer ${KEYS.notificationsMinter.secret}` },
    });
    for (const path of ["/v1/schemas", "/v1/openapi.json", "/v1/asyncapi.json"])
      await answer(200, "GET", path, { auth: null });
  });

  it("was called on every documented operation", () => {
    const paths = openApi.paths as Record<string, Json>;
    const documented = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    // The socket route's 101 is checked by the WebSocket tests below.
    expect(documented.filter((operation) => !called.has(operation))).toEqual([]);
  });
});

/** A WebSocket on a topic (or on /v1/ws) that records every text it receives, in order, and its close. */
function openSocket(
  query: string,
  headers: Record<string, string> = ADMIN_AUTH,
  topic = "api-docs",
  path = `/v1/topics/${topic}/ws`,
) {
  const ws = new WebSocket(`${server.wsUrl}${path}${query}`, { headers });
  const texts: string[] = [];
  const waiters = new Set<() => void>();
  ws.on("message", (data) => {
    texts.push(String(data));
    for (const check of waiters) check();
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  const until = (predicate: (texts: string[]) => boolean, label: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}: ${texts.join("\n")}`)), 15_000);
      const check = () => {
        if (!predicate(texts)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return { ws, texts, closed, until, opened: new Promise((resolve) => ws.once("open", resolve)) };
}

/** The names of the messages the document says the mesh sends: its send operations and their replies. */
function sentByMesh(): Set<string> {
  const names = new Set<string>();
  const last = (ref: { $ref: string }) => ref.$ref.split("/").pop() as string;
  for (const operation of Object.values(asyncApi.operations as Record<string, Json>)) {
    if (operation.action === "send") for (const m of operation.messages as { $ref: string }[]) names.add(last(m));
    for (const m of ((operation.reply as Json | undefined)?.messages ?? []) as { $ref: string }[]) names.add(last(m));
  }
  return names;
}

/** Validates one received text against the message the document declares for it; returns its name. */
function checkReceived(text: string): { name: string; frame: Json | string } {
  const isJson = text.startsWith("{");
  const frame: Json | string = isJson ? JSON.parse(text) : text;
  const name = isJson ? String((frame as Json).type) : text;
  expect(sentByMesh(), `the mesh sent ${text.slice(0, 200)}`).toContain(name);
  expect(messages.errors(name, frame), text.slice(0, 200)).toEqual([]);
  return { name, frame };
}

const types = (texts: string[]) => texts.map((t) => checkReceived(t).name);

describe("the socket sends what the AsyncAPI description declares", () => {
  it("replays, catches up, goes live, answers ping and refuses a message it does not take", async () => {
    const socket = openSocket("?after=0");
    await socket.until((t) => t.some((x) => x.includes('"caught-up"')), "caught-up");
    await answer(201, "POST", EVENTS, {
      params: { topic: "api-docs" },
      json: event("live-1", "MemberJoined", member(9)),
    });
    await socket.until((t) => t.some((x) => x.includes('"live-1"')), "the live event");
    expect(messages.errors("ping", "ping"), "what the client sends is what the document declares").toEqual([]);
    socket.ws.send("ping");
    await socket.until((t) => t.includes("pong"), "pong");
    socket.ws.send("hello");
    await socket.until((t) => t.some((x) => x.includes('"invalid_body"')), "the error frame");
    expect(types(socket.texts)).toEqual(["event", "event", "event", "event", "caught-up", "event", "pong", "error"]);
    socket.ws.close(1000);
    await socket.closed;
  });

  it("sends several events per frame to a connection that asks for batch=true", async () => {
    const socket = openSocket("?after=0&batch=true");
    await socket.until((t) => t.some((x) => x.includes('"caught-up"')), "caught-up");
    const names = types(socket.texts);
    expect(names.at(-1)).toBe("caught-up");
    expect(names).toContain("events");
    socket.ws.close(1000);
    await socket.closed;
  });

  it("asks for acks with mark frames once a quarter of the unacknowledged allowance is sent, and takes ack:<id>", async () => {
    // Ten events of about 60 KB: past a quarter of the default 2 Mi allowance, where the first mark falls.
    const padding = "p".repeat(60_000);
    await answer(201, "POST", EVENTS, {
      params: { topic: "api-docs-marks" },
      raw: JSON.stringify(
        Array.from({ length: 10 }, (_, i) => event(`mark-${i}`, "MemberJoined", member(i), { padding })),
      ),
      headers: { "content-type": "application/cloudevents-batch+json" },
    });
    const socket = openSocket("?after=0", ADMIN_AUTH, "api-docs-marks");
    await socket.until((t) => t.some((x) => x.includes('"caught-up"')), "caught-up");
    const names = types(socket.texts);
    expect(names).toContain("mark");
    const mark = JSON.parse(socket.texts[names.indexOf("mark")]) as { id: string };
    const ack = `ack:${mark.id}`;
    expect(messages.errors("ack", ack), "what the client sends is what the document declares").toEqual([]);
    socket.ws.send(ack);
    socket.ws.send("ping");
    await socket.until((t) => t.includes("pong"), "pong");
    expect(types(socket.texts)).not.toContain("error");
    socket.ws.close(1000);
    await socket.closed;
  });

  it("sends a gap frame for a cursor from another epoch, with a token in the query, and takes a fresh token", async () => {
    const mint = async () =>
      ((await answer(201, "POST", "/v1/tokens", { json: { topics: ["api-docs"] } })) as { token: string }).token;
    const socket = openSocket(`?after=3&epoch=another-log&token=${await mint()}`, {});
    await socket.until((t) => t.some((x) => x.includes('"caught-up"')), "caught-up");
    const refresh = `auth:${await mint()}`;
    expect(messages.errors("auth", refresh), "what the client sends is what the document declares").toEqual([]);
    socket.ws.send(refresh);
    await socket.until((t) => t.some((x) => x.includes('"token-refreshed"')), "token-refreshed");
    expect(types(socket.texts)).toEqual([
      "gap",
      "event",
      "event",
      "event",
      "event",
      "event",
      "caught-up",
      "token-refreshed",
    ]);
    expect(JSON.parse(socket.texts[0])).toMatchObject({ reason: "epoch", after: 3, oldest: 1 });
    socket.ws.close(1000);
    await socket.closed;
  });

  it("follows topics subscribed with frames on /v1/ws, answers unsubscribe and publish", async () => {
    const socket = openSocket("?batch=false", ADMIN_AUTH, "", "/v1/ws");
    await socket.opened;
    const subscribe = JSON.stringify({ type: "subscribe", topic: "api-docs", after: 2 });
    const unsubscribe = JSON.stringify({ type: "unsubscribe", topic: "api-docs" });
    // A socket opened with a key publishes nothing (a token does): answered with a refusal per event.
    const publish = JSON.stringify({ type: "publish", id: "r1", topic: "api-docs", events: [{ id: "x" }] });
    for (const [name, text] of [
      ["subscribe", subscribe],
      ["unsubscribe", unsubscribe],
      ["publish", publish],
    ]) {
      expect(messages.errors(name, JSON.parse(text)), "what the client sends is declared").toEqual([]);
    }
    socket.ws.send(subscribe);
    await socket.until((t) => t.some((x) => x.includes('"caught-up"')), "caught-up");
    socket.ws.send(publish);
    await socket.until((t) => t.some((x) => x.includes('"published"')), "published");
    socket.ws.send(unsubscribe);
    await socket.until((t) => t.some((x) => x.includes('"unsubscribed"')), "unsubscribed");
    const names = types(socket.texts);
    expect(names[0]).toBe("subscribed");
    expect(names.slice(1, -3).every((name) => name === "event")).toBe(true);
    expect(names.slice(-3)).toEqual(["caught-up", "published", "unsubscribed"]);
    expect(JSON.parse(socket.texts.at(-2) ?? "")).toMatchObject({ results: [{ error: { code: "forbidden" } }] });
    socket.ws.close(1000);
    await socket.closed;
  });

  it("follows a topic's presence, lets a token's subject enter and refuses a key, as declared", async () => {
    const { token } = (await answer(201, "POST", "/v1/tokens", {
      json: { topics: ["api-docs"], subject: "api-docs-member" },
    })) as { token: string };
    const socket = openSocket(`?token=${token}`, {}, "", "/v1/ws");
    const keySocket = openSocket("", ADMIN_AUTH, "", "/v1/ws");
    await Promise.all([socket.opened, keySocket.opened]);
    const sent = [
      { type: "presence.follow", topic: "api-docs", mode: "members" },
      { type: "presence.enter", topic: "api-docs", session: "s-1", data: { name: "Docs" } },
      { type: "presence.update", topic: "api-docs", data: { name: "Docs", away: true } },
      { type: "presence.leave", topic: "api-docs" },
      { type: "presence.unfollow", topic: "api-docs" },
    ];
    for (const frame of sent) expect(messages.errors(frame.type, frame), frame.type).toEqual([]);
    socket.ws.send(JSON.stringify(sent[0]));
    await socket.until((t) => t.some((x) => x.includes('"occupancy"')), "occupancy");
    for (const frame of sent.slice(1, 4)) socket.ws.send(JSON.stringify(frame));
    await socket.until((t) => t.some((x) => x.includes('"presence.leave"')), "presence.leave");
    keySocket.ws.send(JSON.stringify(sent[1]));
    await keySocket.until((t) => t.some((x) => x.includes('"presence.refused"')), "presence.refused");
    expect(types(socket.texts).filter((name) => name !== "occupancy")).toEqual([
      "presence",
      "presence.join",
      "presence.update",
      "presence.leave",
    ]);
    expect(types(keySocket.texts)).toEqual(["presence.refused"]);
    for (const s of [socket, keySocket]) s.ws.close(1000);
  });

  it.each([
    ["a cursor beyond the head", "?after=999", ADMIN_AUTH, "cursor_ahead"],
    ["a malformed cursor", "?after=soon", ADMIN_AUTH, "invalid_query"],
    ["no credential", "", {}, "unauthorized"],
  ])(
    "refuses %s with an error frame, then the close code the description lists for it",
    async (_, query, headers, code) => {
      const socket = openSocket(query, headers);
      const closeCode = await socket.closed;
      expect(socket.texts).toHaveLength(1);
      const { name, frame } = checkReceived(socket.texts[0]);
      expect([name, (frame as Json).code]).toEqual(["error", code]);
      const closeCodes = (asyncApi.channels as { topic: { "x-close-codes": { code: number; errors: string[] }[] } })
        .topic["x-close-codes"];
      expect(closeCodes.find((c) => c.code === closeCode)?.errors, `close ${closeCode}`).toContain(code);
    },
  );
});
