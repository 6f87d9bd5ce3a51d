import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTerminalCloseCode } from "../../../protocol/close-codes.ts";
import { KNOWN_ATTRIBUTES } from "../../../protocol/envelope.ts";
import { isValidSubscriptionName } from "../../../protocol/subscriptions.ts";
import { isValidTopicName } from "../../../protocol/topic-name.ts";
import { ADMIN_AUTH, KEYS } from "../../support/credentials.ts";
import worker from "../../workers/support/pool-worker.ts";
import { collect } from "../../workers/support/socket.ts";

// Scenario 7: hostile input, generated. Every request below is wrong in at least one way by
// construction (malformed, oversized, wrongly typed, unicode edges, bad credentials); each must
// get a 4xx (or, on a WebSocket, an error frame and a defined terminal close), never a 5xx or a
// hang, and none may change the log, the topic directory or the subscriptions.

const TOPIC = "hostile";
let requests = 0;

interface Req {
  method: string;
  /** Path and query, already encoded (it may hold deliberately broken percent-encoding). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** One request to the real Worker, with a deadline: a hang fails as surely as a 500. */
async function send(req: Req, auth = true): Promise<Response> {
  requests += 1;
  const headers = new Headers(req.headers);
  if (auth && !headers.has("authorization")) headers.set("authorization", ADMIN_AUTH.authorization);
  // The Worker's own fetch handler, called directly: the pool's self binding (exports.default)
  // gets slower with every request it has served (7 ms, then 30, then 100 per request here).
  const answer = worker.fetch(
    new Request(`http://mesh${req.path}`, { method: req.method, headers, body: req.body }),
    env,
    createExecutionContext(),
  );
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in 10 s to ${req.method} ${req.path}`)), 10_000);
  });
  try {
    return await Promise.race([answer, deadline]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

async function expect4xx(req: Req, auth = true): Promise<void> {
  const res = await send(req, auth);
  const text = await res.text();
  if (res.status < 400 || res.status >= 500) {
    throw new Error(`${req.method} ${req.path} → ${res.status} ${text.slice(0, 300)}`);
  }
  // Every refusal is the mesh's JSON error with a code.
  expect(JSON.parse(text)).toMatchObject({ error: { code: expect.any(String) } });
}

/** Encodes a path segment; a lone surrogate (which encodeURIComponent refuses) becomes bytes that are not UTF-8, on purpose. */
function segment(text: string): string {
  let out = "";
  for (const char of text) out += /^[\ud800-\udfff]$/.test(char) ? "%ED%A0%80" : encodeURIComponent(char);
  return out;
}

const isByteString = (s: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s);
const unicodeEdges = fc.constantFrom(
  "\u0000",
  "\ufeff",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  "e\u0301",
  "\u202e",
  "\u2028",
  "\uffff",
  "𝕏",
  "\u00a0",
);
const weirdString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.array(unicodeEdges, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("")),
);
/** Bodies that are not JSON at all (or not UTF-8). */
const notJson = weirdString.filter((s) => {
  try {
    JSON.parse(s);
    return false;
  } catch {
    return true;
  }
});

const validEvent = (i = 0) => ({
  id: `ok-${i}-${crypto.randomUUID()}`,
  source: "/hostile",
  specversion: "1.0",
  type: "Tick",
});
const nonString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);

/** A CloudEvent broken in exactly one (random) way. */
const brokenEvent: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.constantFrom("id", "source", "specversion", "type").map((drop) => {
    const e: Record<string, unknown> = validEvent();
    delete e[drop];
    return e;
  }),
  fc
    .tuple(
      fc.constantFrom(
        "id",
        "source",
        "type",
        "subject",
        "datacontenttype",
        "dataschema",
        "correlationid",
        "causationid",
        "tracestate",
        "data_base64",
      ),
      nonString,
    )
    .map(([name, value]) => ({ ...validEvent(), [name]: value })),
  fc
    .constantFrom("id", "source", "type", "subject", "datacontenttype", "dataschema", "correlationid", "causationid")
    .map((name) => ({
      ...validEvent(),
      [name]: "",
    })),
  // A source or dataschema with a character no RFC 3986 URI holds (a blank, a control, non-ASCII,
  // or one of "<>\^`{|}), or a hand-picked malformed one; a datacontenttype that is no media type.
  fc
    .tuple(
      fc.constantFrom("source", "dataschema"),
      fc.oneof(
        weirdString.filter((s) => /[^\x21-\x7e]|["<>\\^`{|}]/.test(s)),
        fc.constantFrom("not a uri %%", "::::", "/bad%zz", "%", ":x", "http://[::1/x"),
      ),
    )
    .map(([name, value]) => ({ ...validEvent(), [name]: value })),
  fc.constantFrom("/relative", "orders", "//host/x", "https://x/s#frag").map((dataschema) => ({
    ...validEvent(),
    dataschema,
  })),
  fc
    .oneof(
      weirdString.filter((s) => !s.includes("/")),
      fc.constantFrom("json", "text/", "/json", "a/b/c", "text/plain;", "text/plain; charset"),
    )
    .map((datacontenttype) => ({ ...validEvent(), datacontenttype })),
  weirdString.filter((s) => s !== "1.0").map((specversion) => ({ ...validEvent(), specversion })),
  fc
    .oneof(weirdString, fc.constantFrom("2024-13-45T99:99:99Z", "yesterday", "2024-01-01", "2024-01-01T00:00:00"))
    .map((time) => ({ ...validEvent(), time })),
  weirdString.map((traceparent) => ({ ...validEvent(), traceparent })),
  fc
    .tuple(
      weirdString.filter((n) => !KNOWN_ATTRIBUTES.has(n) && !/^[a-z0-9]+$/.test(n)),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([name, value]) => ({ ...validEvent(), [name]: value })),
  fc
    .tuple(
      fc
        .stringMatching(/^[a-z0-9]{1,40}$/)
        .filter(
          (n) => !KNOWN_ATTRIBUTES.has(n) && !["traceparent", "tracestate", "correlationid", "causationid"].includes(n),
        ),
      fc.oneof(fc.constant(null), fc.array(fc.integer()), fc.object({ maxDepth: 1 })),
    )
    .map(([name, value]) => ({ ...validEvent(), [name]: value })),
  // Names JavaScript objects reserve (a copy of the event would drop them unchecked).
  fc
    .tuple(
      fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([name, value]) => ({ ...validEvent(), [name]: value })),
  fc.constant({ ...validEvent(), data: 1, data_base64: "AA==" }),
  fc.integer({ min: 66_000, max: 200_000 }).map((n) => ({ ...validEvent(), data: "x".repeat(n) })),
  // A catalog type whose data does not match its schema.
  fc.jsonValue({ maxDepth: 2 }).map((data) => ({ ...validEvent(), type: "MemberJoined", data })),
);

const publishRequest: fc.Arbitrary<Req> = fc
  .oneof(
    // One broken event, structured or as the bad one in a batch of good ones (nothing may be stored).
    brokenEvent.map((e) => ({ body: JSON.stringify(e), type: "application/cloudevents+json" })),
    fc.tuple(brokenEvent, fc.nat(5), fc.nat(5)).map(([bad, before, after]) => ({
      body: JSON.stringify([
        ...Array.from({ length: before }, (_, i) => validEvent(i)),
        bad,
        ...Array.from({ length: after }, (_, i) => validEvent(10 + i)),
      ]),
      type: "application/cloudevents-batch+json",
    })),
    // Not JSON, or not UTF-8, or JSON that is no event at all.
    notJson.map((body) => ({ body, type: "application/json" })),
    fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((bytes) => ({ body: new Uint8Array([0xff, 0xc0, ...bytes]), type: "application/cloudevents+json" })),
    fc.jsonValue({ maxDepth: 3 }).map((value) => ({ body: JSON.stringify(value), type: "application/json" })),
    fc.constant({ body: "[]", type: "application/cloudevents-batch+json" }),
    fc.constant({ body: JSON.stringify(validEvent()), type: "application/cloudevents-batch+json" }),
    fc.constant({ body: JSON.stringify([validEvent()]), type: "application/cloudevents+json" }),
    // Too many, too big.
    fc.integer({ min: 101, max: 300 }).map((n) => ({
      body: JSON.stringify(Array.from({ length: n }, (_, i) => validEvent(i))),
      type: "application/cloudevents-batch+json",
    })),
    fc.constant({ body: JSON.stringify({ ...validEvent(), data: "z".repeat(1_100_000) }), type: "application/json" }),
    // A valid event in a content type the mesh does not take.
    fc
      .oneof(
        fc.constantFrom(
          "text/plain",
          "application/xml",
          "multipart/form-data",
          "",
          "application/cloudevents",
          "application/json-seq",
          "application/x-www-form-urlencoded",
        ),
        fc.string({ maxLength: 40 }).filter(isByteString),
      )
      .filter((t) => {
        const media = t.split(";")[0].trim().toLowerCase();
        return !["application/json", "application/cloudevents+json", "application/cloudevents-batch+json"].includes(
          media,
        );
      })
      .map((type) => ({ body: JSON.stringify(validEvent()), type })),
  )
  .map(({ body, type }) => ({
    method: "POST",
    path: `/v1/topics/${TOPIC}/events`,
    headers: type === "" ? ({} as Record<string, string>) : { "content-type": type },
    body,
  }));

/**
 * Binary mode (ce-* headers) with an attribute missing, empty, badly percent-encoded, malformed,
 * or the wrong specversion.
 */
const binaryRequest: fc.Arbitrary<Req> = fc
  .oneof(
    fc.tuple(
      fc.constantFrom("ce-id", "ce-source", "ce-type", "ce-specversion"),
      fc.constantFrom(null, "", "%zz", "%E0%80", "%"),
    ),
    fc.tuple(
      fc.constant("ce-specversion"),
      fc.string({ maxLength: 20 }).filter((v) => isByteString(v) && v.trim() !== "1.0" && !v.includes("%")),
    ),
    // A source or dataschema that, percent-decoded, is no URI-reference or absolute URI.
    fc.tuple(fc.constantFrom("ce-source", "ce-dataschema"), fc.constantFrom("not%20a%20uri", "::::", "/bad%25zz")),
    // An extension header whose name is no valid attribute name.
    fc.tuple(fc.constantFrom("ce-__proto__", "ce-constructor_", "ce-x-y", "ce-"), fc.constant("1")),
  )
  .map(([name, value]) => {
    const headers: Record<string, string> = {
      "ce-id": "b1",
      "ce-source": "/bin",
      "ce-type": "Tick",
      "ce-specversion": "1.0",
      "content-type": "text/plain",
    };
    if (value === null) delete headers[name];
    else headers[name] = value;
    return { method: "POST", path: `/v1/topics/${TOPIC}/events`, headers, body: "hello" };
  });

const badTopicSegment = fc.oneof(
  weirdString.filter((s) => !isValidTopicName(s) && s !== "." && s !== "..").map(segment),
  fc.constantFrom(
    "%FF",
    "%",
    "%E0%80",
    "%ED%A0%80",
    "%2F",
    "a%2Fb",
    "-a",
    "_a",
    ":a",
    "a".repeat(129),
    "%C3%A9",
    "a%20b",
    "a%00b",
    "%EF%BB%BFa",
  ),
);

const topicRequest: fc.Arbitrary<Req> = fc.tuple(badTopicSegment, fc.nat(4)).map(([t, route]) => {
  const event = JSON.stringify(validEvent());
  return [
    {
      method: "POST",
      path: `/v1/topics/${t}/events`,
      headers: { "content-type": "application/cloudevents+json" },
      body: event,
    },
    { method: "GET", path: `/v1/topics/${t}/events` },
    { method: "GET", path: `/v1/topics/${t}` },
    { method: "GET", path: `/v1/topics/${t}/ws` },
    {
      method: "PUT",
      path: `/v1/topics/${t}/subscriptions/s1`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: { type: "webhook", url: "http://127.0.0.1:9/hook" } }),
    },
  ][route];
});

const badAfter = fc.oneof(
  fc.string({ maxLength: 20 }).filter((s) => !/^\d{1,15}$/.test(s)),
  fc.constantFrom("-1", "1.5", "1e3", "0x10", " 1", "1 ", "9999999999999999", "５", "٣"),
  // Well formed but beyond the head of the (empty) topic.
  fc.integer({ min: 1, max: 1e12 }).map(String),
);
const badLimit = fc.oneof(
  fc.constantFrom("0", "1001", "-5", "abc", "1000000", "1.0", ""),
  fc.integer({ min: 1001, max: 1e9 }).map(String),
);
const badTypes = fc.oneof(
  fc.integer({ min: 51, max: 80 }).map((n) => Array.from({ length: n }, (_, i) => `t${i}`).join(",")),
  fc.integer({ min: 201, max: 400 }).map((n) => "t".repeat(n)),
);

/** A history query with at least one bad parameter (and maybe good ones beside it). */
const queryRequest: fc.Arbitrary<Req> = fc
  .tuple(
    fc.option(badAfter),
    fc.option(badLimit),
    fc.option(badTypes),
    fc.option(fc.dictionary(fc.string({ maxLength: 8 }), weirdString, { maxKeys: 3 })),
  )
  .filter(([after, limit, types]) => after !== null || limit !== null || types !== null)
  .map(([after, limit, types, extra]) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(extra ?? {})) {
      try {
        params.append(k, v);
      } catch {
        // A lone surrogate cannot be a query value; leave it out.
      }
    }
    if (after !== null) params.set("after", after);
    if (limit !== null) params.set("limit", limit);
    if (types !== null) params.set("type", types);
    return { method: "GET", path: `/v1/topics/${TOPIC}/events?${params}` };
  });

const deadLetterQuery: fc.Arbitrary<Req> = fc
  .oneof(
    fc.record({ limit: badLimit }),
    fc.record({ kind: weirdString.filter((k) => k !== "subscription" && k !== "queue") }),
    fc.record({ topic: weirdString.filter((t) => !isValidTopicName(t)) }),
    fc.record({ cursor: weirdString }),
    fc.constant({ subscription: "a", consumer: "b" }),
  )
  .map((q) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) {
      try {
        params.set(k, v);
      } catch {
        params.set(k, "\ufffd\u0000");
      }
    }
    return { method: "GET", path: `/v1/dead-letters?${params}` };
  });

const validConfig = () => ({ target: { type: "webhook", url: "http://127.0.0.1:9/hook" } as Record<string, unknown> });
const brokenConfig: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .jsonValue({ maxDepth: 3 })
    .filter((v) => typeof v !== "object" || v === null || Array.isArray(v) || !("target" in v)),
  fc
    .oneof(weirdString, nonString)
    .filter((type) => type !== "webhook")
    .map((type) => ({ target: { type, url: "http://127.0.0.1:9/hook" } })),
  fc
    .oneof(
      nonString,
      fc.constantFrom(
        "not a url",
        "",
        "http://10.0.0.1/x",
        "http://169.254.169.254/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://[::1]:9/x",
        "http://0.0.0.0/",
      ),
    )
    .map((url) => ({ target: { type: "webhook", url } })),
  fc
    .oneof(
      fc.integer({ max: 99 }),
      fc.integer({ min: 30_001 }),
      fc.double({ min: 100.1, max: 200, noInteger: true }),
      fc.string(),
    )
    .map((timeoutMs) => ({
      target: { type: "webhook", url: "http://127.0.0.1:9/hook", timeoutMs },
    })),
  fc
    .oneof(fc.constantFrom("whsec_", "whsec_AAAA", "secret"), fc.string())
    .map((secret) => ({ target: { ...validConfig().target, secret } })),
  fc
    .oneof(weirdString, fc.constantFrom("NOPE", "DELIVERY_QUEUE2", ""))
    .map((queue) => ({ target: { type: "queue", queue } })),
  fc
    .oneof(fc.integer({ max: 0 }), fc.integer({ min: 101 }), fc.constant(1.5), fc.string())
    .map((batchSize) => ({ ...validConfig(), batchSize })),
  fc
    .oneof(
      fc.record({ maxAttempts: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 101 })) }),
      fc.constant({ firstDelayMs: 10, maxDelayMs: 5 }),
      fc.record({ extra: fc.nat() }),
    )
    .map((retry) => ({ ...validConfig(), retry })),
  fc
    .oneof(fc.constant([]), fc.constant([""]), fc.array(nonString, { minLength: 1 }), fc.constant("Tick"))
    .map((types) => ({ ...validConfig(), types })),
  fc
    .oneof(weirdString, fc.constant({ seq: 0 }), fc.constant({ seq: -1 }))
    .filter((start) => start !== "earliest" && start !== "latest")
    .map((start) => ({ ...validConfig(), start })),
  weirdString
    .filter((o) => o !== "dead-letter" && o !== "pause")
    .map((onExhausted) => ({ ...validConfig(), onExhausted })),
  weirdString
    .filter((k) => !["target", "types", "start", "retry", "onExhausted", "batchSize"].includes(k))
    .map((k) => ({ ...validConfig(), [k]: 1 })),
);

const subscriptionRequest: fc.Arbitrary<Req> = fc
  .oneof(
    brokenConfig.map((config) => ({ name: "s1", body: JSON.stringify(config) })),
    weirdString
      .filter((s) => !isValidSubscriptionName(s) && s !== "." && s !== "..")
      .map((name) => ({
        name: segment(name),
        body: JSON.stringify(validConfig()),
      })),
    notJson.map((body) => ({ name: "s1", body })),
    fc.constant({ name: "s1", body: JSON.stringify({ ...validConfig(), pad: "p".repeat(70_000) }) }),
  )
  .map(({ name, body }) => ({
    method: "PUT",
    path: `/v1/topics/${TOPIC}/subscriptions/${name}`,
    headers: { "content-type": "application/json" },
    body,
  }));

/** Credentials that must not pass: garbage, wrong keys, keys without the right scope. */
const credentialRequest: fc.Arbitrary<Req> = fc
  .tuple(
    fc.oneof(
      fc.string({ maxLength: 60 }).filter(isByteString),
      fc
        .string({ maxLength: 60 })
        .filter(isByteString)
        .map((s) => `Bearer ${s}`),
      fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
      fc.constantFrom(
        "Bearer",
        "Basic dXNlcjpwYXNz",
        `Bearer ${KEYS.admin.secret}x`,
        `bearer  ${KEYS.admin.secret.slice(1)}`,
        `Bearer ${KEYS.reader.secret}`,
        `Bearer ${KEYS.usersPublisher.secret}`,
      ),
    ),
    fc.nat(3),
  )
  .filter(
    ([auth]) =>
      auth.trim() !== `Bearer ${KEYS.admin.secret}` &&
      !new RegExp(`^bearer\\s+${KEYS.admin.secret}\\s*$`, "i").test(auth),
  )
  .map(([authorization, route]) => {
    const event = JSON.stringify(validEvent());
    const write = { "content-type": "application/cloudevents+json" };
    return [
      { method: "POST", path: `/v1/topics/${TOPIC}/events`, headers: { authorization, ...write }, body: event },
      { method: "GET", path: "/v1/topics", headers: { authorization } },
      {
        method: "PUT",
        path: `/v1/topics/${TOPIC}/subscriptions/s1`,
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify(validConfig()),
      },
      { method: "GET", path: "/v1/dead-letters", headers: { authorization } },
    ][route];
  });

/** A WebSocket upgrade with something wrong: it must be accepted, told why, and closed with a terminal code. */
const socketRequest: fc.Arbitrary<{ path: string; auth: boolean }> = fc.oneof(
  fc
    .tuple(
      fc.option(badAfter, { nil: undefined }),
      fc.option(badTypes, { nil: undefined }),
      fc.option(fc.string({ minLength: 65, maxLength: 100 }), { nil: undefined }),
    )
    .filter(([after, types, epoch]) => after !== undefined || types !== undefined || epoch !== undefined)
    .map(([after, types, epoch]) => {
      const params = new URLSearchParams();
      if (after !== undefined) params.set("after", after);
      if (types !== undefined) params.set("types", types);
      if (epoch !== undefined) params.set("epoch", epoch);
      return { path: `/v1/topics/${TOPIC}/ws?${params}`, auth: true };
    }),
  badTopicSegment.map((t) => ({ path: `/v1/topics/${t}/ws`, auth: true })),
  fc
    .oneof(
      fc.string({ maxLength: 40 }),
      fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => p.join(".")),
    )
    .map((token) => {
      const params = new URLSearchParams();
      try {
        params.set("token", token);
      } catch {
        params.set("token", "\ufffd");
      }
      return { path: `/v1/topics/${TOPIC}/ws?${params}`, auth: false };
    }),
  fc.constant({ path: `/v1/topics/${TOPIC}/ws`, auth: false }),
);

/** What anyone may send on an open socket; only `ping` and `ack:<n>` are frames the mesh takes. */
const socketFrame: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  weirdString,
  fc.uint8Array({ maxLength: 256 }),
  fc.oneof(weirdString, fc.constantFrom("-1", "1.5", "", " 1", "1e9", "99999999999999999999")).map((n) => `ack:${n}`),
  fc.constantFrom("PING", "ping ", " ping", "pong", "", "{}", '{"type":"event"}', "ack", "ACK:1"),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => "w".repeat(n)),
);

async function snapshot() {
  const topics = await (await send({ method: "GET", path: "/v1/topics" })).json();
  const info = (await (await send({ method: "GET", path: `/v1/topics/${TOPIC}` })).json()) as { head: number };
  const subs = await (await send({ method: "GET", path: `/v1/topics/${TOPIC}/subscriptions` })).json();
  return { topics, head: info.head, subs };
}

/** Runs a property; the first failure ends it at once (shrinking requests that hang would take minutes). */
function check<T>(arbitrary: fc.Arbitrary<T>, property: (value: T) => Promise<void>, numRuns: number) {
  return fc.assert(fc.asyncProperty(arbitrary, property), { numRuns, endOnFailure: true });
}

let before: Awaited<ReturnType<typeof snapshot>>;
beforeAll(async () => {
  before = await snapshot();
});
afterAll(async () => {
  // Nothing stored, listed or subscribed by any of it.
  expect(await snapshot()).toEqual(before);
  expect(before.head).toBe(0);
  expect(requests).toBeGreaterThanOrEqual(10_000);
});

const RUNS = {
  publish: 2_500,
  binary: 500,
  topic: 1_500,
  query: 1_200,
  deadLetters: 300,
  subscription: 1_500,
  credential: 1_000,
  socket: 1_000,
  frames: 1_000,
};

describe("hostile input never gets past a 4xx", () => {
  it(`publish bodies (${RUNS.publish}) and binary-mode headers (${RUNS.binary})`, async () => {
    await check(publishRequest, (req) => expect4xx(req), RUNS.publish);
    await check(binaryRequest, (req) => expect4xx(req), RUNS.binary);
  });

  it(`topic names on every topic route (${RUNS.topic})`, async () => {
    await check(topicRequest, (req) => expect4xx(req), RUNS.topic);
  });

  it(`history and dead-letter query parameters (${RUNS.query + RUNS.deadLetters})`, async () => {
    await check(queryRequest, (req) => expect4xx(req), RUNS.query);
    await check(deadLetterQuery, (req) => expect4xx(req), RUNS.deadLetters);
  });

  it(`subscription names and bodies (${RUNS.subscription})`, async () => {
    await check(subscriptionRequest, (req) => expect4xx(req), RUNS.subscription);
  });

  it(`credentials that must not pass (${RUNS.credential})`, async () => {
    await check(credentialRequest, (req) => expect4xx(req, false), RUNS.credential);
  });

  it(`WebSocket upgrades with bad queries, topics and tokens (${RUNS.socket})`, async () => {
    await check(
      socketRequest,
      async ({ path, auth }) => {
        const res = await send({ method: "GET", path, headers: { upgrade: "websocket" } }, auth);
        // A path no route matches (an empty topic) is a plain 404, like any unknown path.
        if (res.status === 404) {
          expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
          return;
        }
        const sock = collect(res);
        const { code } = await sock.closed;
        expect(isTerminalCloseCode(code), `${path} closed with ${code}`).toBe(true);
        expect(sock.frames).toEqual([expect.objectContaining({ type: "error", code: expect.any(String) })]);
      },
      RUNS.socket,
    );
  });

  it(`WebSocket frames (${RUNS.frames}): each one the mesh does not take gets an error frame, and the socket lives on`, async () => {
    const res = await send({ method: "GET", path: `/v1/topics/${TOPIC}/ws`, headers: { upgrade: "websocket" } });
    const sock = collect(res);
    await sock.until((f) => f.some((x) => x.type === "caught-up"), "caught-up");
    let refused = 0;
    await check(
      socketFrame,
      async (frame) => {
        requests += 1;
        const text = typeof frame === "string" ? frame : null;
        const taken = text === "ping" || (text !== null && /^ack:\d{1,15}$/.test(text));
        sock.ws.send(frame);
        if (taken) return;
        refused += 1;
        await sock.until((f) => f.filter((x) => x.type === "error").length === refused, `error frame ${refused}`);
      },
      RUNS.frames,
    );
    // Even a 2 MB frame is only refused (over the network workerd ends such a socket with 1009).
    sock.ws.send("x".repeat(2 * 1024 * 1024));
    refused += 1;
    await sock.until((f) => f.filter((x) => x.type === "error").length === refused, "the refusal of the 2 MB frame");
    expect(sock.ws.readyState).toBe(WebSocket.OPEN);
    expect(sock.frames.filter((f) => f.type === "error" && f.code !== "invalid_body")).toEqual([]);
    sock.ws.close(1000);
  });
});
