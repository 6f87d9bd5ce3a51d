import * as v from "valibot";
import { isAuthContextAttribute } from "./auth-context.ts";
import type { JsonObject } from "./json.ts";
import { timestampSchema } from "./timestamp.ts";
import { ABSOLUTE_URI_PATTERN, URI_REFERENCE_PATTERN } from "./uri.ts";

/** CloudEvents 1.0 context attributes the mesh knows by name (everything else is an extension). */
export const KNOWN_ATTRIBUTES = new Set([
  "id",
  "source",
  "specversion",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
  "data",
  "data_base64",
  "seq",
]);

/**
 * CloudEvents: attribute names MUST be lower-case ASCII letters and digits. The spec's 20-character
 * limit is only a SHOULD NOT, so longer names are valid events and pass; the event size limit bounds them.
 */
const EXTENSION_NAME = /^[a-z0-9]+$/;
/** RFC 2045 token (which RFC 2046 media types are built from): printable ASCII but no tspecials. */
const TOKEN = "[!#$%&'*+\\-.^_`{|}~0-9A-Za-z]+";
// Quoted string: tab and printable ASCII but '"' and '\', or a backslash pair escaping any of them.
const QUOTED_STRING = '"(?:[\\t !#-\\[\\]-~]|\\\\[\\t -~])*"';
/**
 * `datacontenttype` MUST adhere to RFC 2046: type "/" subtype, then `; attribute=value` parameters
 * (value a token or a quoted string). Blanks are allowed around ";" only, as HTTP writes them.
 */
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED_STRING}))*$`);

const nonEmpty = (name: string) =>
  v.pipe(v.string(`${name} must be a string`), v.nonEmpty(`${name} must not be empty`));

/**
 * A CloudEvents 1.0 event in structured JSON form, as a publisher sends it. Unknown attributes
 * are kept (extensions) but must have valid names and scalar values.
 */
export const CloudEventSchema = v.pipe(
  v.looseObject(
    {
      id: nonEmpty("id"),
      source: v.pipe(nonEmpty("source"), v.regex(URI_REFERENCE_PATTERN, "source must be a URI-reference (RFC 3986)")),
      specversion: v.literal("1.0", 'specversion must be "1.0"'),
      type: nonEmpty("type"),
      subject: v.optional(nonEmpty("subject")),
      time: v.optional(timestampSchema("time")),
      datacontenttype: v.optional(
        v.pipe(
          nonEmpty("datacontenttype"),
          v.regex(MEDIA_TYPE, "datacontenttype must be a media type such as application/json (RFC 2046)"),
        ),
      ),
      dataschema: v.optional(
        v.pipe(nonEmpty("dataschema"), v.regex(ABSOLUTE_URI_PATTERN, "dataschema must be an absolute URI (RFC 3986)")),
      ),
      data: v.optional(v.unknown()),
      data_base64: v.optional(v.string("data_base64 must be a string")),
      traceparent: v.optional(
        v.pipe(
          v.string("traceparent must be a string"),
          v.regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, "traceparent must be W3C trace context"),
        ),
      ),
      tracestate: v.optional(v.string("tracestate must be a string")),
      correlationid: v.optional(nonEmpty("correlationid")),
      causationid: v.optional(nonEmpty("causationid")),
    },
    // A missing attribute has a path; the object itself failing (not an object) has none.
    (issue) => (issue.path ? `${String(issue.path[0].key)} is required` : "an event must be a JSON object"),
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const event = dataset.value as Record<string, unknown>;
    const at = (key: string): [v.ObjectPathItem] => [
      { type: "object", origin: "value", input: event, key, value: event[key] },
    ];
    if (event.data !== undefined && event.data_base64 !== undefined) {
      addIssue({ message: "data and data_base64 are mutually exclusive", path: at("data_base64") });
    }
    for (const [name, value] of Object.entries(event)) {
      if (KNOWN_ATTRIBUTES.has(name)) continue;
      if (!EXTENSION_NAME.test(name)) {
        addIssue({
          message: `extension attribute "${name}" must be lower-case letters a-z or digits 0-9`,
          path: at(name),
        });
      } else if (!["string", "number", "boolean"].includes(typeof value)) {
        addIssue({ message: `extension attribute "${name}" must be a string, number or boolean`, path: at(name) });
      }
    }
  }),
);

/** What a publisher sends: a CloudEvent without a position. */
export type CloudEventInput = v.InferInput<typeof CloudEventSchema>;

/** Result of checking one envelope: the normalized event (no `seq` yet) or the issues. */
export type EnvelopeCheck = { ok: true; event: JsonObject } | { ok: false; message: string; attribute?: string };

/**
 * Checks one structured CloudEvent. The returned event drops any `seq` a publisher sent
 * (only the topic's Durable Object assigns positions) and gets `time` when it has none.
 */
export function checkEnvelope(input: unknown, now: Date = new Date()): EnvelopeCheck {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, message: "an event must be a JSON object" };
  }
  // Refused before the schema copies the event: see isUncopiedName.
  const inherited = Object.keys(input).find((name) => !KNOWN_ATTRIBUTES.has(name) && isUncopiedName(name));
  if (inherited !== undefined) {
    return {
      ok: false,
      message: `extension attribute "${inherited}" is a name JavaScript objects reserve; choose another`,
      attribute: inherited,
    };
  }
  // Refused rather than overwritten: a publisher that sends one expects it kept, or is forging it.
  const claimed = Object.keys(input).find(isAuthContextAttribute);
  if (claimed !== undefined) {
    return {
      ok: false,
      message: `${claimed} is set by the mesh from the publishing credential (CloudEvents authcontext): leave it out`,
      attribute: claimed,
    };
  }
  const result = v.safeParse(CloudEventSchema, input);
  if (!result.success) {
    const issue = result.issues[0];
    const attribute = issue.path?.map((p) => String(p.key)).join(".") || undefined;
    return { ok: false, message: issue.message, attribute };
  }
  const { seq: _ignored, ...event } = result.output as Record<string, unknown>;
  if (event.time === undefined) event.time = now.toISOString();
  return { ok: true, event: event as JsonObject };
}

/**
 * Names every object has, and the ones valibot never copies ("prototype"; it skips "__proto__" and
 * "constructor" too): a copy would turn "__proto__" into its prototype and skip the others as if
 * they were declared attributes, so as extension attributes they would pass unchecked and vanish
 * from the stored event.
 */
export function isUncopiedName(name: string): boolean {
  return name in Object.prototype || name === "prototype";
}
