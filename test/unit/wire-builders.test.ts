import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { checkEnvelope, isUncopiedName } from "../../protocol/envelope.ts";
import { EventFrameSchema, eventFrameText, ServerFrameSchema } from "../../protocol/frames.ts";
import type { JsonObject } from "../../protocol/json.ts";
import { acceptedEvent, StoredEventSchema, storedEventJson } from "../../protocol/mesh-event.ts";
import { type HistoryPagePosition, HistoryPageSchema, historyPageParts } from "../../protocol/responses.ts";
import { WebhookPayloadSchema, webhookBodyText } from "../../protocol/subscriptions.ts";

/**
 * The hot-path builders concatenate stored JSON instead of serializing objects. Each is checked
 * here by parsing its output with the schema of what it builds, on stored events made the way the
 * log makes them: a checked envelope, serialized once with its seq.
 */

const now = new Date("2026-11-30T12:00:00.000Z");

/**
 * A history page as the Worker answers it: the events as the log's joined read hands them over,
 * UTF-8 pieces of `perPiece` events each.
 */
function historyPage(position: HistoryPagePosition, rows: readonly string[], perPiece = rows.length): Promise<string> {
  const pieces: ArrayBuffer[] = [];
  for (let i = 0; i < rows.length; i += perPiece) {
    pieces.push(new TextEncoder().encode(rows.slice(i, i + perPiece).join(",")).buffer as ArrayBuffer);
  }
  return new Blob(historyPageParts(position, pieces)).text();
}

function stored(input: Record<string, unknown>, seq: number): string {
  const checked = checkEnvelope(
    { specversion: "1.0", id: `evt-${seq}`, source: "/tests", type: "Thing", ...input },
    now,
  );
  if (!checked.ok) throw new Error(`not a valid event: ${checked.message}`);
  return storedEventJson(acceptedEvent(checked.event).json, seq);
}

/** Representative stored events: unicode everywhere, nested data, extensions, binary data, no data. */
const EVENTS = [
  stored({ data: { orderId: "o-1", total: 42.5, lines: [{ sku: "a", qty: 1 }], gift: null, paid: true } }, 1),
  stored(
    {
      type: "Grüße.🎉",
      subject: "order/o-1 \u2028\u2029 line separators",
      data: {
        text: 'emoji 👩‍👩‍👧‍👦, CJK 漢字, RTL مرحبا, combining é, quotes " and \\ backslash, tab\t, nul \u0000',
        lone: "\ud800 lone surrogate",
      },
    },
    2,
  ),
  stored(
    {
      time: "2026-01-02T03:04:05.6789+01:00",
      datacontenttype: "application/json",
      dataschema: "https://example.com/schemas/thing.json",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "vendor=a",
      correlationid: "flow-1",
      causationid: "evt-1",
      sequence: "0007",
      priority: 5,
      urgent: true,
      region: "eu-west",
      data: { deep: { deeper: { deepest: [[1, [2, [3, { four: 4 }]]], -0.5, 1e21] } } },
    },
    3,
  ),
  stored({ datacontenttype: "image/png", data_base64: "iVBORw0KGgo=" }, 4),
  stored({ datacontenttype: "text/plain", data: "shelf 7, bin 3" }, 5),
  stored({}, 6),
];

const originals = () => EVENTS.map((json) => JSON.parse(json) as JsonObject);

describe("storedEventJson", () => {
  it("makes events the stored-event schema accepts, unchanged by parsing", () => {
    for (const json of EVENTS) expect(v.parse(StoredEventSchema, JSON.parse(json))).toEqual(JSON.parse(json));
  });

  it("is the accepted event serialized whole with seq last", () => {
    const checked = checkEnvelope({ specversion: "1.0", id: "x", source: "/tests", type: "Thing", data: [1] }, now);
    if (!checked.ok) throw new Error(checked.message);
    expect(storedEventJson(acceptedEvent(checked.event).json, 7)).toBe(JSON.stringify({ ...checked.event, seq: 7 }));
  });
});

describe("eventFrameText", () => {
  it.each(["orders", "billing:eu_west", "notifications.user-42"])("builds event frames of topic %s", (topic) => {
    for (const [i, json] of EVENTS.entries()) {
      const text = eventFrameText(JSON.stringify(topic), json);
      const frame = v.parse(EventFrameSchema, JSON.parse(text));
      expect(frame).toEqual({ type: "event", topic, event: originals()[i] });
      // The frame is what serializing it whole would give, so the client reads the same either way.
      expect(text).toBe(JSON.stringify({ type: "event", topic, event: originals()[i] }));
      expect(v.parse(ServerFrameSchema, JSON.parse(text)).type).toBe("event");
    }
  });
});

describe("historyPageParts", () => {
  it("builds pages with every event, in order, from one piece of events or several", async () => {
    const parts = { topic: "orders", epoch: crypto.randomUUID(), head: 9, next: 6, more: true };
    for (const perPiece of [EVENTS.length, 2, 1]) {
      const text = await historyPage(parts, EVENTS, perPiece);
      const page = v.parse(HistoryPageSchema, JSON.parse(text));
      expect(page).toEqual({ ...parts, events: originals() });
      expect(text).toBe(JSON.stringify({ ...parts, events: originals() }));
    }
  });

  it("builds an empty page", async () => {
    const text = await historyPage({ topic: "t", epoch: "e", head: 0, next: 0, more: false }, []);
    expect(v.parse(HistoryPageSchema, JSON.parse(text))).toEqual({
      topic: "t",
      epoch: "e",
      head: 0,
      next: 0,
      more: false,
      events: [],
    });
  });
});

describe("webhookBodyText", () => {
  it("builds webhook bodies of one event and of a batch", () => {
    for (const rows of [EVENTS.slice(0, 1), EVENTS]) {
      const text = webhookBodyText("billing:eu_west", "ledger.v2", rows);
      const body = v.parse(WebhookPayloadSchema, JSON.parse(text));
      const events = rows.map((json) => JSON.parse(json));
      expect(body).toEqual({ topic: "billing:eu_west", subscription: "ledger.v2", events });
      expect(text).toBe(JSON.stringify({ topic: "billing:eu_west", subscription: "ledger.v2", events }));
    }
  });
});

describe("every builder on generated events", () => {
  const declared = new Set(Object.keys(StoredEventSchema.pipe[0].entries));
  const extensionName = fc
    .stringMatching(/^[a-z0-9]{1,20}$/)
    .filter((name) => !declared.has(name) && !isUncopiedName(name));
  const generatedEvent = fc.record(
    {
      subject: fc.string({ unit: "grapheme", minLength: 1 }),
      data: fc.jsonValue(),
      extensions: fc.dictionary(extensionName, fc.oneof(fc.string({ unit: "binary" }), fc.integer(), fc.boolean())),
    },
    { requiredKeys: ["extensions"] },
  );

  it("parses with the schemas whatever the event holds", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(generatedEvent, { minLength: 1, maxLength: 5 }), async (events) => {
        const rows = events.map(({ extensions, ...attributes }, i) => stored({ ...extensions, ...attributes }, i + 1));
        const expected = rows.map((json) => JSON.parse(json));
        const frame = v.parse(EventFrameSchema, JSON.parse(eventFrameText('"t"', rows[0])));
        const page = v.parse(
          HistoryPageSchema,
          JSON.parse(
            await historyPage({ topic: "t", epoch: "e", head: rows.length, next: rows.length, more: false }, rows),
          ),
        );
        const body = v.parse(WebhookPayloadSchema, JSON.parse(webhookBodyText("t", "s", rows)));
        expect(frame.event).toEqual(expected[0]);
        expect(page.events).toEqual(expected);
        expect(body.events).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
