import { checkData } from "../protocol/catalog.ts";
import { checkEnvelope } from "../protocol/envelope.ts";
import type { JsonObject } from "../protocol/json.ts";
import type { MeshConfig } from "./config.ts";
import { MeshError } from "./mesh-error.ts";

export interface PublishRequest {
  contentType: string | null;
  headers: Headers;
  body: string;
}

const encoder = new TextEncoder();

/**
 * Turns one publish request in any CloudEvents HTTP mode (structured, batch, binary) into checked
 * events. Throws a MeshError on the first problem, so a bad batch stores nothing.
 */
export function parsePublishRequest(req: PublishRequest, config: MeshConfig, now = new Date()): JsonObject[] {
  const media = (req.contentType ?? "").split(";")[0].trim().toLowerCase();
  const raw =
    req.headers.has("ce-specversion") || req.headers.has("ce-id") ? [binaryEvent(req, media)] : structured(req, media);
  if (raw.length === 0) throw new MeshError("invalid_body", "a batch must hold at least one event");
  if (raw.length > config.maxBatchEvents) {
    throw new MeshError("batch_too_large", `a batch holds at most ${config.maxBatchEvents} events, got ${raw.length}`, {
      limit: config.maxBatchEvents,
      count: raw.length,
    });
  }
  return raw.map((input, index) => {
    const at = raw.length > 1 ? ` (event ${index})` : "";
    const size = encoder.encode(JSON.stringify(input)).byteLength;
    if (size > config.maxEventBytes) {
      throw new MeshError("event_too_large", `an event is at most ${config.maxEventBytes} bytes, got ${size}${at}`, {
        limit: config.maxEventBytes,
        size,
        index,
      });
    }
    const envelope = checkEnvelope(input, now);
    if (!envelope.ok) {
      throw new MeshError("invalid_envelope", `invalid CloudEvent${at}: ${envelope.message}`, {
        index,
        ...(envelope.attribute ? { attribute: envelope.attribute } : {}),
      });
    }
    const data = checkData(String(envelope.event.type), envelope.event.data, config.unknownEventTypes);
    if (!data.ok) {
      throw new MeshError(data.code, `${data.message}${at}`, {
        index,
        type: envelope.event.type,
        issues: data.issues ?? [],
      });
    }
    return envelope.event;
  });
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new MeshError("malformed_json", `the body is not valid JSON: ${(err as Error).message}`);
  }
}

function structured(req: PublishRequest, media: string): unknown[] {
  switch (media) {
    case "application/cloudevents-batch+json": {
      const value = parseJson(req.body);
      if (!Array.isArray(value))
        throw new MeshError("invalid_body", "a cloudevents-batch+json body must be a JSON array");
      return value;
    }
    case "application/cloudevents+json": {
      const value = parseJson(req.body);
      if (Array.isArray(value)) {
        throw new MeshError(
          "invalid_body",
          "a cloudevents+json body is one event; send arrays as cloudevents-batch+json",
        );
      }
      return [value];
    }
    case "application/json": {
      const value = parseJson(req.body);
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
function binaryEvent(req: PublishRequest, media: string): JsonObject {
  const event: JsonObject = {};
  req.headers.forEach((value, name) => {
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
  if (req.body.length > 0) {
    if (media === "application/json" || media.endsWith("+json")) event.data = parseJson(req.body) as JsonObject;
    else event.data = req.body;
  }
  if (req.contentType) event.datacontenttype = req.contentType;
  return event;
}
