import * as v from "valibot";
import type { Catalog, CatalogType, EmptyCatalog, EventData } from "./catalog.ts";
import { type JsonObject, JsonValueSchema } from "./json.ts";

/** A topic position: the mesh's integer extension `seq`, contiguous per topic from 1. */
export const SeqSchema = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(1),
  v.description("The event's position in its topic, set only by the topic's log (1, 2, 3, … with no gaps)."),
);

/**
 * A stored event, the one event shape of the mesh: the CloudEvent as published, plus `seq` and
 * (when the publisher sent none) `time`. History pages, live frames, webhook bodies, queue messages
 * and dead letters all carry it. Further extension attributes (strings, numbers or booleans) are kept
 * as sent.
 */
export const StoredEventSchema = v.pipe(
  v.objectWithRest(
    {
      id: v.string(),
      source: v.string(),
      specversion: v.literal("1.0"),
      type: v.string(),
      /** Set by the publisher, or by the mesh when the publisher sent none. */
      time: v.string(),
      seq: SeqSchema,
      subject: v.optional(v.string()),
      datacontenttype: v.optional(v.string()),
      dataschema: v.optional(v.string()),
      data: v.optional(JsonValueSchema),
      data_base64: v.optional(v.string()),
      traceparent: v.optional(v.string()),
      tracestate: v.optional(v.string()),
      correlationid: v.optional(v.string()),
      causationid: v.optional(v.string()),
      /**
       * CloudEvents authcontext, set by the mesh from the publishing credential (protocol/auth-context.ts):
       * `app_user` or `api_key`. A string here, since events stored before the mesh set it may carry a
       * publisher's own value.
       */
      authtype: v.optional(v.string()),
      authid: v.optional(v.string()),
    },
    JsonValueSchema,
  ),
  v.description(
    "A stored CloudEvent: the event as published, plus seq (and time when it had none) and who published it (authtype: app_user for a subscriber token, api_key for a key; authid: the token's subject or id, or the key's id). Extension attributes are strings, numbers or booleans.",
  ),
);

type StoredEvent = v.InferOutput<typeof StoredEventSchema>;

/**
 * An accepted event as the Worker hands it to its topic's object: the dedup key and type the log
 * needs, and the event's JSON (checked, without `seq`). It is serialized here, once, in the Worker,
 * which scales out, and not in the topic's object, which runs on one thread for the whole topic.
 */
export interface AcceptedEvent {
  id: string;
  source: string;
  type: string;
  json: string;
}

export function acceptedEvent(event: JsonObject): AcceptedEvent {
  return { id: String(event.id), source: String(event.source), type: String(event.type), json: JSON.stringify(event) };
}

/**
 * The stored form of an accepted event (`StoredEventSchema`): its JSON with `seq` added, by
 * concatenation. Every answer that carries events (pages, frames, webhook bodies) concatenates
 * this text in turn instead of serializing again.
 */
export function storedEventJson(acceptedJson: string, seq: number): string {
  return `${acceptedJson.slice(0, -1)},"seq":${seq}}`;
}

/**
 * A stored event as the SDKs type it. With a catalog and a type of it, `data` is that type's schema
 * output and `type` narrows to the name; without (or for a type outside the catalog) `data` is
 * untyped JSON.
 */
export type MeshEvent<C extends Catalog = EmptyCatalog, T extends string = string> = string extends T
  ? StoredEvent
  : T extends CatalogType<C>
    ? StoredEvent & { type: T; data: EventData<C, T> }
    : StoredEvent & { type: T };

/** Narrows an event of any type to one catalog type, e.g. in an unfiltered subscription. */
export function isEventType<C extends Catalog, T extends CatalogType<C>>(
  event: MeshEvent<C>,
  type: T,
): event is MeshEvent<C, T> {
  return event.type === type;
}
