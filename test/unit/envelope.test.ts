import { describe, expect, it } from "vitest";
import { keyAuthContext, tokenAuthContext, withAuthContext } from "../../protocol/auth-context.ts";
import { checkEnvelope } from "../../protocol/envelope.ts";

const base = { id: "evt-1", source: "/billing", type: "InvoicePaid", specversion: "1.0" };
const now = new Date("2026-01-02T03:04:05.678Z");

describe("checkEnvelope", () => {
  it("accepts the four required attributes and sets time from the server clock", () => {
    expect(checkEnvelope(base, now)).toEqual({ ok: true, event: { ...base, time: "2026-01-02T03:04:05.678Z" } });
  });

  it.each(["id", "source", "type", "specversion"])("refuses an event without %s, naming it", (attribute) => {
    const { [attribute as keyof typeof base]: _dropped, ...rest } = base;
    expect(checkEnvelope(rest, now)).toEqual({ ok: false, attribute, message: `${attribute} is required` });
  });

  it.each([
    [{ id: "" }, "id", "id must not be empty"],
    [{ id: 7 }, "id", "id must be a string"],
    [{ source: "" }, "source", "source must not be empty"],
    [{ type: null }, "type", "type must be a string"],
    [{ specversion: "0.3" }, "specversion", 'specversion must be "1.0"'],
    [{ specversion: 1 }, "specversion", 'specversion must be "1.0"'],
    [{ time: "yesterday" }, "time", "time must be an RFC 3339 timestamp"],
    [{ time: "2026-13-45T99:00:00Z" }, "time", "time must be a real date and time"],
    [{ subject: 5 }, "subject", "subject must be a string"],
    [{ subject: "" }, "subject", "subject must not be empty"],
    [{ datacontenttype: "" }, "datacontenttype", "datacontenttype must not be empty"],
    [{ dataschema: "" }, "dataschema", "dataschema must not be empty"],
    [{ traceparent: "not-a-trace" }, "traceparent", "traceparent must be W3C trace context"],
    [{ correlationid: "" }, "correlationid", "correlationid must not be empty"],
    [{ data: 1, data_base64: "AA==" }, "data_base64", "data and data_base64 are mutually exclusive"],
    [{ Bad_Name: "x" }, "Bad_Name", 'extension attribute "Bad_Name" must be lower-case letters a-z or digits 0-9'],
    [{ Upper: "x" }, "Upper", 'extension attribute "Upper" must be lower-case letters a-z or digits 0-9'],
    [{ "x-y": "x" }, "x-y", 'extension attribute "x-y" must be lower-case letters a-z or digits 0-9'],
    [{ café: "x" }, "café", 'extension attribute "café" must be lower-case letters a-z or digits 0-9'],
    [{ tenant: { id: 1 } }, "tenant", 'extension attribute "tenant" must be a string, number or boolean'],
  ])("refuses %j, naming %s", (patch, attribute, message) => {
    expect(checkEnvelope({ ...base, ...patch }, now)).toEqual({ ok: false, attribute, message });
  });

  it.each([null, "event", 42, [base]])("refuses %j: an event is a JSON object", (input) => {
    expect(checkEnvelope(input, now)).toMatchObject({ ok: false, message: "an event must be a JSON object" });
  });

  it("keeps every optional attribute and extension as given", () => {
    const full = {
      ...base,
      subject: "invoice/42",
      time: "2025-12-31T23:59:59+01:00",
      datacontenttype: "application/json",
      dataschema: "https://example.com/schemas/invoice-paid.json",
      data: { amount: 12.5, lines: [1, 2], paid: true, note: null },
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "congo=t61rcWkgMzE",
      correlationid: "order-9",
      causationid: "evt-0",
      tenant: "acme",
      priority: 3,
      urgent: false,
    };
    expect(checkEnvelope(full, now)).toEqual({ ok: true, event: full });
  });

  it("keeps data_base64 for binary data", () => {
    const result = checkEnvelope({ ...base, data_base64: "iVBORw0KGgo=" }, now);
    expect(result).toMatchObject({ ok: true, event: { data_base64: "iVBORw0KGgo=" } });
  });

  it("refuses attribute names JavaScript objects reserve, which copying the event would drop unchecked", () => {
    for (const [name, value] of [
      ["__proto__", '{"x":1}'],
      ["constructor", '"x"'],
      ["constructor", '{"a":1}'],
      ["toString", "1"],
      // Not inherited, but valibot never copies it (found by the hostile-input property, seed -756515261).
      ["prototype", '{"":{"x":1}}'],
    ]) {
      const input = JSON.parse(`{"id":"1","source":"s","specversion":"1.0","type":"T","${name}":${value}}`);
      expect(checkEnvelope(input)).toEqual({
        ok: false,
        message: `extension attribute "${name}" is a name JavaScript objects reserve; choose another`,
        attribute: name,
      });
    }
  });

  it("drops a seq sent by the publisher: only the topic's log assigns positions", () => {
    const result = checkEnvelope({ ...base, seq: 99 }, now);
    expect(result.ok).toBe(true);
    expect(result.ok && "seq" in result.event).toBe(false);
  });

  it("keeps a publisher's own CloudEvents sequence extension as sent, beside no seq", () => {
    expect(checkEnvelope({ ...base, sequence: "0001", seq: 7 }, now)).toEqual({
      ok: true,
      event: { ...base, sequence: "0001", time: now.toISOString() },
    });
  });

  it("accepts extension names longer than 20 characters: the spec's limit is only a SHOULD NOT", () => {
    const name = "abcdefghijklmnopqrstuvwxyz0123";
    expect(name).toHaveLength(30);
    expect(checkEnvelope({ ...base, [name]: "v" }, now)).toMatchObject({ ok: true, event: { [name]: "v" } });
  });
});

describe("source: a non-empty URI-reference (RFC 3986)", () => {
  it.each([
    "/x",
    "orders",
    "urn:event-mesh:publisher",
    "https://a.example/c?d=1#e",
    "//host/path",
    "mailto:a@b.c",
    "/with%20space",
    "https://[::1]:8080/x",
  ])("accepts %j", (source) => {
    expect(checkEnvelope({ ...base, source }, now)).toMatchObject({ ok: true, event: { source } });
  });

  it.each(["not a uri %%", "::::", "/bad%zz", "a b"])("refuses %j, naming source and the rule", (source) => {
    expect(checkEnvelope({ ...base, source }, now)).toEqual({
      ok: false,
      attribute: "source",
      message: "source must be a URI-reference (RFC 3986)",
    });
  });

  it("refuses an empty source as empty", () => {
    expect(checkEnvelope({ ...base, source: "" }, now)).toEqual({
      ok: false,
      attribute: "source",
      message: "source must not be empty",
    });
  });
});

describe("dataschema: a non-empty absolute URI (RFC 3986)", () => {
  it.each(["https://x/s.json", "urn:x:y"])("accepts %j", (dataschema) => {
    expect(checkEnvelope({ ...base, dataschema }, now)).toMatchObject({ ok: true, event: { dataschema } });
  });

  it.each(["::::", "/relative", "x y", "https://x/s.json#/defs/a"])("refuses %j, naming dataschema", (dataschema) => {
    expect(checkEnvelope({ ...base, dataschema }, now)).toEqual({
      ok: false,
      attribute: "dataschema",
      message: "dataschema must be an absolute URI (RFC 3986)",
    });
  });
});

describe("datacontenttype: an RFC 2046 media type", () => {
  it.each([
    "application/json",
    "text/plain; charset=utf-8",
    "text/plain;charset=UTF-8",
    'multipart/form-data; boundary="a b;c"',
    "application/vnd.example+json;v=2;q=x",
    "image/png",
  ])("accepts %j", (datacontenttype) => {
    expect(checkEnvelope({ ...base, datacontenttype }, now)).toMatchObject({ ok: true, event: { datacontenttype } });
  });

  it.each(["json", "text", "application/", "/json", "text/plain;", "text/plain; charset", "text /plain", "a/b/c"])(
    "refuses %j, naming datacontenttype",
    (datacontenttype) => {
      expect(checkEnvelope({ ...base, datacontenttype }, now)).toEqual({
        ok: false,
        attribute: "datacontenttype",
        message: "datacontenttype must be a media type such as application/json (RFC 2046)",
      });
    },
  );
});

describe("authcontext: set by the mesh, never by the publisher", () => {
  it.each(["authtype", "authid", "authclaims"])("refuses an event that carries %s, naming it", (attribute) => {
    expect(checkEnvelope({ ...base, [attribute]: "admin" }, now)).toEqual({
      ok: false,
      attribute,
      message: `${attribute} is set by the mesh from the publishing credential (CloudEvents authcontext): leave it out`,
    });
  });

  it("names a token's subject, or its id without one, as an app user; a key by its id as an API key", () => {
    expect(tokenAuthContext({ tokenId: "jti-1", subject: "user-7" })).toEqual({
      authtype: "app_user",
      authid: "user-7",
    });
    expect(tokenAuthContext({ tokenId: "jti-1" })).toEqual({ authtype: "app_user", authid: "jti-1" });
    expect(keyAuthContext("checkout")).toEqual({ authtype: "api_key", authid: "checkout" });
    const checked = { ...base, time: now.toISOString() };
    expect(withAuthContext(checked, keyAuthContext("checkout"))).toEqual({
      ...checked,
      authtype: "api_key",
      authid: "checkout",
    });
  });
});
