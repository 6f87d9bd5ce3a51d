import { type Catalog, checkData } from "../protocol/catalog.ts";
import { checkEnvelope } from "../protocol/envelope.ts";
import type { JsonObject } from "../protocol/json.ts";
import type { MeshConfig } from "./config.ts";
import { MeshError } from "./mesh-error.ts";

const encoder = new TextEncoder();

/**
 * Checks one published event, by whatever path it came (HTTP or a socket's `publish` frame): its
 * size, its CloudEvents envelope, and its data against the app's catalog (types outside it follow
 * UNKNOWN_EVENT_TYPES). Answers the normalized event or throws the MeshError naming the problem;
 * `index` is the event's place in its batch, named in the message when the batch holds several.
 */
export function checkEvent(
  input: unknown,
  index: number,
  batchSize: number,
  config: Pick<MeshConfig, "maxEventBytes" | "unknownEventTypes">,
  catalog: Catalog,
  now: Date,
): JsonObject {
  const at = batchSize > 1 ? ` (event ${index})` : "";
  const text = JSON.stringify(input);
  // A UTF-16 unit is at most 3 UTF-8 bytes: most events are known to fit without encoding them.
  const size = text.length * 3 > config.maxEventBytes ? encoder.encode(text).byteLength : null;
  if (size !== null && size > config.maxEventBytes) {
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
  const data = checkData(catalog, String(envelope.event.type), envelope.event.data, config.unknownEventTypes);
  if (!data.ok) {
    throw new MeshError(data.code, `${data.message}${at}`, {
      index,
      type: envelope.event.type,
      issues: data.issues ?? [],
    });
  }
  return envelope.event;
}
