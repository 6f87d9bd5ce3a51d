import { describe, expect, it } from "vitest";
import { readConfig } from "../../runtime/config.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import { type PublishRequest, parsePublishRequest } from "../../worker/publish-parser.ts";
import { testCatalog } from "../support/test-catalog.ts";

const config = readConfig({ MAX_EVENT_BYTES: "1024", MAX_BATCH_EVENTS: "3" });
const now = new Date("2026-03-04T05:06:07.000Z");
const event = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `e${n}`,
  source: "/test",
  type: "Thing",
  specversion: "1.0",
  ...extra,
});

function request(contentType: string | null, body: unknown, headers: Record<string, string> = {}): PublishRequest {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return { contentType, headers: new Headers(headers), body: new TextEncoder().encode(text) };
}

/** Runs the parser and returns the MeshError it throws (fails the test if it throws none). */
function refusal(req: PublishRequest, cfg = config): MeshError {
  try {
    parsePublishRequest(req, cfg, testCatalog, now);
  } catch (err) {
    if (err instanceof MeshError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("structured mode", () => {
  it.each(["application/cloudevents+json", "application/cloudevents+json; charset=utf-8", "application/json"])(
    "reads one event sent as %s",
    (contentType) => {
      expect(parsePublishRequest(request(contentType, event(1, { data: { a: 1 } })), config, testCatalog, now)).toEqual(
        [{ ...event(1), data: { a: 1 }, time: now.toISOString() }],
      );
    },
  );

  it("takes a string body too (in-Worker callers)", () => {
    const req = { contentType: "application/json", headers: new Headers(), body: JSON.stringify(event(1)) };
    expect(parsePublishRequest(req, config, testCatalog, now)).toHaveLength(1);
  });

  it("refuses an array sent as cloudevents+json", () => {
    expect(refusal(request("application/cloudevents+json", [event(1)]))).toMatchObject({ code: "invalid_body" });
  });
});

describe("batch mode", () => {
  it.each(["application/cloudevents-batch+json", "application/json"])("reads an array sent as %s, in order", (ct) => {
    const events = parsePublishRequest(request(ct, [event(1), event(2), event(3)]), config, testCatalog, now);
    expect(events.map((e) => e.id)).toEqual(["e1", "e2", "e3"]);
  });

  it("refuses a non-array batch body", () => {
    expect(refusal(request("application/cloudevents-batch+json", event(1)))).toMatchObject({
      code: "invalid_body",
      message: "a cloudevents-batch+json body must be a JSON array",
    });
  });

  it("refuses an empty batch", () => {
    expect(refusal(request("application/cloudevents-batch+json", []))).toMatchObject({ code: "invalid_body" });
  });

  it("refuses a batch over the configured maximum, naming the limit", () => {
    const err = refusal(request("application/cloudevents-batch+json", [event(1), event(2), event(3), event(4)]));
    expect(err).toMatchObject({ code: "batch_too_large", status: 413, details: { limit: 3, count: 4 } });
    expect(err.message).toBe("a batch holds at most 3 events, got 4");
  });

  it("refuses the whole batch for one bad event, naming its index and attribute", () => {
    const err = refusal(request("application/json", [event(1), { ...event(2), specversion: "2.0" }, event(3)]));
    expect(err).toMatchObject({ code: "invalid_envelope", details: { index: 1, attribute: "specversion" } });
    expect(err.message).toBe('invalid CloudEvent (event 1): specversion must be "1.0"');
  });

  it("refuses a batch whose second event breaks its catalog schema, with the issues", () => {
    const good = event(1, { type: "MemberJoined", data: { userId: "u1", name: "Ada", email: "ada@example.com" } });
    const bad = event(2, { type: "MemberJoined", data: { userId: "u2", name: "Bob", email: "nope" } });
    expect(refusal(request("application/json", [good, bad]))).toMatchObject({
      code: "schema_mismatch",
      status: 422,
      details: {
        index: 1,
        type: "MemberJoined",
        issues: [{ path: "email", message: "email must be a valid address" }],
      },
    });
  });
});

describe("binary mode", () => {
  const ce = {
    "ce-id": "b1",
    // The header is percent-encoded (HTTP binding); decoded, the source is the URI-reference "/billing%20service".
    "ce-source": "%2Fbilling%2520service",
    "ce-type": "InvoicePaid",
    "ce-specversion": "1.0",
  };

  it("takes attributes from ce-* headers (percent-decoded) and JSON data from the body", () => {
    const req = request("application/json", { amount: 5 }, { ...ce, "ce-subject": "invoice/7", "ce-tenant": "acme" });
    expect(parsePublishRequest(req, config, testCatalog, now)).toEqual([
      {
        id: "b1",
        source: "/billing%20service",
        type: "InvoicePaid",
        specversion: "1.0",
        subject: "invoice/7",
        tenant: "acme",
        datacontenttype: "application/json",
        data: { amount: 5 },
        time: now.toISOString(),
      },
    ]);
  });

  it("keeps a ce-time and drops a ce-seq", () => {
    const req = request("text/plain", "hi", { ...ce, "ce-time": "2020-01-01T00:00:00Z", "ce-seq": "5" });
    const [stored] = parsePublishRequest(req, config, testCatalog, now);
    expect(stored).toMatchObject({ time: "2020-01-01T00:00:00Z", data: "hi", datacontenttype: "text/plain" });
    expect(stored).not.toHaveProperty("seq");
  });

  it("keeps non-text data byte for byte as data_base64", () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const req = { contentType: "image/png", headers: new Headers(ce), body: bytes };
    const [stored] = parsePublishRequest(req, config, testCatalog, now);
    expect(stored).toMatchObject({ datacontenttype: "image/png", data_base64: "iVBORwD/" });
    expect(stored).not.toHaveProperty("data");
  });

  it("keeps text that is not UTF-8 as data_base64 rather than mangling it", () => {
    const req = { contentType: "text/plain", headers: new Headers(ce), body: new Uint8Array([0xff, 0xfe]) };
    expect(parsePublishRequest(req, config, testCatalog, now)[0]).toMatchObject({ data_base64: "//4=" });
  });

  it("stores no data for an empty body", () => {
    const [stored] = parsePublishRequest(
      { contentType: null, headers: new Headers(ce), body: new Uint8Array() },
      config,
      testCatalog,
      now,
    );
    expect(stored).not.toHaveProperty("data");
    expect(stored).not.toHaveProperty("datacontenttype");
  });

  it("names a missing required header's attribute", () => {
    const { "ce-source": _source, ...rest } = ce;
    expect(refusal(request("text/plain", "x", rest))).toMatchObject({
      code: "invalid_envelope",
      details: { attribute: "source" },
      message: "invalid CloudEvent: source is required",
    });
  });

  it("keeps a ce-sequence string and a long extension header name as sent", () => {
    const long = "ce-abcdefghijklmnopqrstuvwxyz0123";
    const req = request("text/plain", "x", { ...ce, "ce-sequence": "0001", [long]: "v" });
    expect(parsePublishRequest(req, config, testCatalog, now)[0]).toMatchObject({
      sequence: "0001",
      [long.slice(3)]: "v",
    });
  });

  it("refuses a source whose header decodes to a space: a URI-reference has none", () => {
    expect(refusal(request("text/plain", "x", { ...ce, "ce-source": "%2Fbilling%20service" }))).toMatchObject({
      code: "invalid_envelope",
      details: { attribute: "source" },
      message: "invalid CloudEvent: source must be a URI-reference (RFC 3986)",
    });
  });

  it("refuses a ce-dataschema that is no absolute URI, naming it", () => {
    expect(refusal(request("text/plain", "x", { ...ce, "ce-dataschema": "::::" }))).toMatchObject({
      code: "invalid_envelope",
      details: { attribute: "dataschema" },
      message: "invalid CloudEvent: dataschema must be an absolute URI (RFC 3986)",
    });
  });

  it("refuses a content type that is no media type: it becomes datacontenttype", () => {
    expect(refusal(request("json", "x", ce))).toMatchObject({
      code: "invalid_envelope",
      details: { attribute: "datacontenttype" },
    });
  });

  it("refuses a header that is not valid percent-encoding", () => {
    expect(refusal(request("text/plain", "x", { ...ce, "ce-subject": "%E0%A4%A" }))).toMatchObject({
      code: "invalid_envelope",
      details: { attribute: "subject" },
    });
  });

  it("refuses a JSON body that does not parse", () => {
    expect(refusal(request("application/json", "{nope", ce))).toMatchObject({ code: "malformed_json" });
  });

  it("is not used when the body is application/cloudevents+json: that is structured mode", () => {
    const req = request("application/cloudevents+json", event(9), ce);
    expect(parsePublishRequest(req, config, testCatalog, now)[0]).toMatchObject({ id: "e9", source: "/test" });
  });
});

describe("refusals", () => {
  it.each([["text/plain"], ["application/xml"], ["application/cloudevents+xml"], ["multipart/form-data"]])(
    "refuses %s without ce-* headers with 415",
    (contentType) => {
      expect(refusal(request(contentType, event(1)))).toMatchObject({ code: "unsupported_media_type", status: 415 });
    },
  );

  it("refuses a missing content type with 415", () => {
    const err = refusal(request(null, event(1)));
    expect(err.status).toBe(415);
    expect(err.message).toContain('content type "(none)" is not supported');
  });

  it.each(["", "{", "[1,", "undefined"])("refuses malformed JSON %j with 400", (body) => {
    expect(refusal(request("application/json", body))).toMatchObject({ code: "malformed_json", status: 400 });
  });

  it("refuses a body that is not UTF-8", () => {
    const req = { contentType: "application/json", headers: new Headers(), body: new Uint8Array([0x7b, 0xff, 0x7d]) };
    expect(refusal(req)).toMatchObject({ code: "malformed_json", message: "the body is not valid UTF-8" });
  });

  it("refuses an event over the size limit with 413, naming the limit and the index", () => {
    const big = event(2, { data: "x".repeat(1100) });
    const err = refusal(request("application/json", [event(1), big]));
    expect(err).toMatchObject({ code: "event_too_large", status: 413, details: { limit: 1024, index: 1 } });
    expect(err.message).toMatch(/^an event is at most 1024 bytes, got \d+ \(event 1\)$/);
  });

  it("counts the size in UTF-8 bytes, not characters", () => {
    // 400 three-byte characters: 400 characters but over 1,200 bytes.
    expect(refusal(request("application/json", event(1, { data: "€".repeat(400) })))).toMatchObject({
      code: "event_too_large",
    });
  });

  it("accepts an event just under the limit", () => {
    const fixed = JSON.stringify(event(1, { data: "" })).length;
    const fits = event(1, { data: "x".repeat(1024 - fixed) });
    expect(parsePublishRequest(request("application/json", fits), config, testCatalog, now)).toHaveLength(1);
  });

  it("refuses an unknown type when the policy says reject, and accepts it otherwise", () => {
    const strict = readConfig({ UNKNOWN_EVENT_TYPES: "reject" });
    expect(refusal(request("application/json", event(1)), strict)).toMatchObject({
      code: "unknown_event_type",
      status: 422,
    });
    expect(parsePublishRequest(request("application/json", event(1)), readConfig({}), testCatalog, now)).toHaveLength(
      1,
    );
  });
});

describe("config", () => {
  it("uses the documented defaults", () => {
    expect(readConfig({})).toEqual({
      maxEventBytes: 65536,
      maxBatchEvents: 100,
      maxBodyBytes: 1048576,
      dedupWindowSeconds: 86400,
      retentionMaxAgeSeconds: 604800,
      retentionMaxEvents: 1000000,
      retentionMaxBytes: 1073741824,
      retentionProtectSubscriptions: false,
      unknownEventTypes: "accept",
      replayPageSize: 500,
      liveMaxUnackedChars: 2097152,
      liveMaxSocketsPerClient: 1000,
      liveMaxSocketsPerCredential: 1000,
      liveStallSeconds: 60,
      hubMaxSockets: 2000,
      hubPoolSize: 1024,
      hubConnectAttempts: 11,
      hubWindowEvents: 1000,
      hubMaxTopicsPerSocket: 100,
    });
  });

  it.each([
    [{ MAX_EVENT_BYTES: "0" }, 'config MAX_EVENT_BYTES must be a positive integer, got "0"'],
    [{ MAX_BATCH_EVENTS: "ten" }, 'config MAX_BATCH_EVENTS must be a positive integer, got "ten"'],
    [{ UNKNOWN_EVENT_TYPES: "maybe" }, 'config UNKNOWN_EVENT_TYPES must be "accept" or "reject", got "maybe"'],
    [{ RETENTION_PROTECT_SUBSCRIPTIONS: "yes" }, 'config RETENTION_PROTECT_SUBSCRIPTIONS must be "true" or "false"'],
    [{ HUB_MAX_SOCKETS: "32768" }, "config HUB_MAX_SOCKETS must be below the runtime's 32768 sockets per object"],
    [{ HUB_POOL_SIZE: "-1" }, 'config HUB_POOL_SIZE must be a positive integer, got "-1"'],
  ])("refuses a bad setting %j", (vars, message) => {
    expect(() => readConfig(vars)).toThrow(message);
  });
});
