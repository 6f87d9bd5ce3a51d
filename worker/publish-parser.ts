import type { Catalog } from "../protocol/catalog.ts";
import type { JsonObject, JsonValue } from "../protocol/json.ts";
import { checkEvent } from "../runtime/check-event.ts";
import type { MeshConfig } from "../runtime/config.ts";
import { MeshError } from "../runtime/mesh-error.ts";

export interface PublishRequest {
  contentType: string | null;
  headers: Headers;
  /** The raw body (in binary mode the data need not be text); in-Worker callers may pass a string. */
  body: Uint8Array | string;
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Turns one publish request in any CloudEvents HTTP mode (structured, batch, binary) into checked
 * events. Throws a MeshError on the first problem, so a bad batch stores nothing.
 */
export function parsePublishRequest(
  req: PublishRequest,
  config: MeshConfig,
  catalog: Catalog,
  now = new Date(),
): JsonObject[] {
  const media = (req.contentType ?? "").split(";")[0].trim().toLowerCase();
  // The CloudEvents HTTP binding: an application/cloudevents* body is structured even if ce-*
  // headers are present; otherwise ce-* headers mean binary mode.
  const binary =
    !media.startsWith("application/cloudevents") && (req.headers.has("ce-specversion") || req.headers.has("ce-id"));
  const body = typeof req.body === "string" ? encoder.encode(req.body) : req.body;
  const raw = binary ? [binaryEvent(req.headers, req.contentType, media, body)] : structured(body, media);
  if (raw.length === 0) throw new MeshError("invalid_body", "a batch must hold at least one event");
  if (raw.length > config.maxBatchEvents) {
    throw new MeshError("batch_too_large", `a batch holds at most ${config.maxBatchEvents} events, got ${raw.length}`, {
      limit: config.maxBatchEvents,
      count: raw.length,
    });
  }
  return raw.map((input, index) => checkEvent(input, index, raw.length, config, catalog, now));
}

function parseJson(body: Uint8Array): JsonValue {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new MeshError("malformed_json", "the body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MeshError("malformed_json", `the body is not valid JSON: ${(err as Error).message}`);
  }
}

function structured(body: Uint8Array, media: string): JsonValue[] {
  switch (media) {
    case "application/cloudevents-batch+json": {
      const value = parseJson(body);
      if (!Array.isArray(value))
        throw new MeshError("invalid_body", "a cloudevents-batch+json body must be a JSON array");
      return value;
    }
    case "application/cloudevents+json": {
      const value = parseJson(body);
      if (Array.isArray(value)) {
        throw new MeshError(
          "invalid_body",
          "a cloudevents+json body is one event; send arrays as cloudevents-batch+json",
        );
      }
      return [value];
    }
    case "application/json": {
      const value = parseJson(body);
      return Array.isArray(value) ? value : [value];
    }
    default:
      throw new MeshError(
        "unsupported_media_type",
        `content type "${media || "(none)"}" is not supported: use application/cloudevents+json, application/cloudevents-batch+json, application/json, or binary mode with ce-* headers`,
      );
  }
}

/** Binary mode: attributes in `ce-*` headers, the body is `data` in the request's content type. */
function binaryEvent(headers: Headers, contentType: string | null, media: string, body: Uint8Array): JsonObject {
  // No prototype, so a ce-__proto__ header becomes an attribute the envelope check refuses.
  const event: JsonObject = Object.create(null);
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!lower.startsWith("ce-")) return;
    try {
      event[lower.slice(3)] = decodeURIComponent(value);
    } catch {
      throw new MeshError("invalid_envelope", `header ${lower} is not valid percent-encoding`, {
        attribute: lower.slice(3),
      });
    }
  });
  if (contentType) event.datacontenttype = contentType;
  if (body.byteLength === 0) return event;
  if (media === "application/json" || media.endsWith("+json")) {
    event.data = parseJson(body);
    return event;
  }
  // Text stays readable; anything else (images, protobuf, bad UTF-8) is kept byte for byte.
  const text = isTextMedia(media) ? decodeText(body) : null;
  if (text !== null) event.data = text;
  else event.data_base64 = toBase64(body);
  return event;
}

function isTextMedia(media: string): boolean {
  return media === "" || media.startsWith("text/") || media === "application/xml" || media.endsWith("+xml");
}

function decodeText(body: Uint8Array): string | null {
  try {
    return utf8.decode(body);
  } catch {
    return null;
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
