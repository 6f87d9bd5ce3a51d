import { CloudEvent } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryPage, TopicInfo } from "../../protocol/responses.ts";
import { ADMIN_AUTH } from "../support/credentials.ts";
import { LocalServer } from "../support/local-server.ts";

// CloudEvents conformance both ways, against a real local server: every event the mesh stores,
// whatever mode it came in, is one the official SDK (`new CloudEvent(event)`, strict) accepts;
// and events the spec forbids are refused with the attribute named, storing nothing.

const TOPIC = "conformance";
const server = new LocalServer();
beforeAll(() => server.start());
afterAll(() => server.dispose());

const LONG_NAME = "abcdefghijklmnopqrstuvwxyz0123"; // 30 characters: the spec's 20 is only a SHOULD NOT
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10]);

const event = (id: string, source: string, extra: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id,
  source,
  type: "com.example.conformance.checked",
  ...extra,
});

async function post(body: BodyInit, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}/v1/topics/${TOPIC}/events`, {
    method: "POST",
    headers: { ...ADMIN_AUTH, ...headers },
    body,
  });
}

const structured = (e: unknown) => post(JSON.stringify(e), { "content-type": "application/cloudevents+json" });
const batch = (events: unknown[]) =>
  post(JSON.stringify(events), { "content-type": "application/cloudevents-batch+json" });

async function head(): Promise<number> {
  const res = await fetch(`${server.url}/v1/topics/${TOPIC}`, { headers: ADMIN_AUTH });
  expect(res.status).toBe(200);
  return ((await res.json()) as TopicInfo).head;
}

async function stored(): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${server.url}/v1/topics/${TOPIC}/events?after=0&limit=100`, { headers: ADMIN_AUTH });
  expect(res.status).toBe(200);
  const page = (await res.json()) as HistoryPage;
  expect(page.more).toBe(false);
  return page.events;
}

describe("CloudEvents conformance against a real server", () => {
  it("stores valid events from every mode, each accepted by the official SDK", async () => {
    const sent: Response[] = [];
    // Structured: every optional attribute, a long extension name, a publisher's own sequence.
    sent.push(
      await structured(
        event("s-1", "https://a.example/c?d=1#e", {
          subject: "order/42",
          time: "2026-01-02T03:04:05Z",
          datacontenttype: "application/json",
          dataschema: "https://example.com/schemas/order.json",
          data: { amount: 12.5, lines: [1, 2], paid: true, note: null },
          traceparent: TRACEPARENT,
          tracestate: "congo=t61rcWkgMzE",
          [LONG_NAME]: "long names are valid",
          sequence: "0001",
        }),
      ),
    );
    // Batch: each source form of RFC 3986 a publisher might use, and typed extension values.
    sent.push(
      await batch([
        event("b-1", "/x"),
        event("b-2", "orders", { sequence: "0002", priority: 3, urgent: false }),
        event("b-3", "urn:event-mesh:publisher", { dataschema: "urn:x:y" }),
        event("b-4", "//host/path", { datacontenttype: "text/plain; charset=utf-8", data: "plain text" }),
        event("b-5", "mailto:a@b.c", { data_base64: "iVBORw0KGgo=", datacontenttype: "image/png" }),
        event("b-6", "/with%20space"),
        event("b-7", "https://[::1]:8080/x", { seq: 999 }),
      ]),
    );
    // Binary, text body: attributes in ce-* headers (values percent-encoded per the HTTP binding).
    sent.push(
      await post("hello, mesh", {
        "content-type": "text/plain; charset=utf-8",
        "ce-specversion": "1.0",
        "ce-id": "bin-text",
        "ce-source": "%2Fsensors%2Ftn-1234567%2Falerts",
        "ce-type": "com.example.conformance.checked",
        "ce-subject": "sensor%20one",
        "ce-dataschema": "https://example.com/schemas/alert.json",
        "ce-traceparent": TRACEPARENT,
        "ce-sequence": "0003",
        [`ce-${LONG_NAME}`]: "from a header",
      }),
    );
    // Binary, bytes that are no text: stored byte for byte as data_base64.
    sent.push(
      await post(BYTES, {
        "content-type": "application/octet-stream",
        "ce-specversion": "1.0",
        "ce-id": "bin-bytes",
        "ce-source": "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
        "ce-type": "com.example.conformance.checked",
      }),
    );
    expect(sent.map((r) => r.status)).toEqual([201, 201, 201, 201]);

    const events = await stored();
    expect(events.map((e) => e.id)).toEqual([
      "s-1",
      "b-1",
      "b-2",
      "b-3",
      "b-4",
      "b-5",
      "b-6",
      "b-7",
      "bin-text",
      "bin-bytes",
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const e of events) {
      // Strict: throws a ValidationError on anything that is no valid CloudEvent 1.0.
      const checked = new CloudEvent<unknown>(e);
      expect(checked.seq).toBe(e.seq);
      expect(Number.isInteger(checked.seq)).toBe(true);
    }

    const byId = new Map(events.map((e) => [e.id, e]));
    expect(byId.get("s-1")).toMatchObject({
      sequence: "0001",
      [LONG_NAME]: "long names are valid",
      traceparent: TRACEPARENT,
    });
    expect(byId.get("b-2")).toMatchObject({ sequence: "0002", priority: 3, urgent: false });
    // The publisher's seq was dropped; the mesh's position took its place.
    expect(byId.get("b-7")?.seq).toBe(8);
    expect(byId.get("bin-text")).toMatchObject({
      source: "/sensors/tn-1234567/alerts",
      subject: "sensor one",
      datacontenttype: "text/plain; charset=utf-8",
      data: "hello, mesh",
      traceparent: TRACEPARENT,
      sequence: "0003",
      [LONG_NAME]: "from a header",
    });
    const bytes = byId.get("bin-bytes");
    expect(bytes).toMatchObject({ datacontenttype: "application/octet-stream" });
    expect(bytes).not.toHaveProperty("data");
    expect(new CloudEvent<Uint8Array>(bytes ?? {}).data).toEqual(BYTES);
  });

  it.each([
    ["source", { source: "not a uri %%" }, "source must be a URI-reference (RFC 3986)"],
    ["dataschema", { dataschema: "::::" }, "dataschema must be an absolute URI (RFC 3986)"],
  ])("refuses a %s the spec forbids with 400 invalid_envelope, storing nothing", async (attribute, patch, rule) => {
    const bad = { ...event(`bad-${attribute}`, "/bad"), ...patch };
    // The official SDK agrees that this is no CloudEvent.
    expect(() => new CloudEvent<unknown>(bad)).toThrow();
    const before = await head();
    for (const res of [await structured(bad), await batch([event("ok-before", "/ok"), bad])]) {
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: Record<string, unknown> };
      expect(error).toMatchObject({ code: "invalid_envelope", attribute });
      expect(error.message).toContain(rule);
    }
    expect(await head()).toBe(before);
  });
});
