import * as v from "valibot";
import { CloudEventSchema } from "./envelope.ts";

/**
 * The bodies `POST /v1/topics/:topic/events` takes, by content type: the three CloudEvents HTTP
 * modes. The Worker reads them in worker/publish-parser.ts; these declarations describe them.
 */

/** Batch mode: the events of one all-or-nothing publish, stored with consecutive seqs in this order. */
export const CloudEventBatchSchema = v.pipe(
  v.array(CloudEventSchema),
  v.minLength(1),
  v.description("At most MAX_BATCH_EVENTS events (default 100); if one is refused, none is stored."),
);

/** Structured mode sent as plain JSON: one event or a batch. */
export const CloudEventOrBatchSchema = v.union([CloudEventSchema, CloudEventBatchSchema]);

/** Binary mode: the body is the event's data, its attributes travel in headers. */
export const BinaryEventDataSchema = v.pipe(
  v.unknown(),
  v.description(
    "Binary mode: the attributes travel in ce-* headers (ce-specversion, ce-id, ce-source, ce-type, …; values percent-encoded) and the body is the event's data in the request's content type: JSON is parsed into data, text kept as a string, anything else kept byte for byte as data_base64.",
  ),
);
