import type { Catalog, CatalogType, EmptyCatalog, EventData } from "./catalog.ts";

/** Attributes every stored event has, plus the optional ones the mesh knows by name. */
interface StoredAttributes {
  id: string;
  source: string;
  specversion: "1.0";
  /** Set by the publisher, or by the mesh when the publisher sent none. */
  time: string;
  /** The event's position in its topic, set only by the topic's log (an integer extension). */
  seq: number;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  data_base64?: string;
  traceparent?: string;
  tracestate?: string;
  correlationid?: string;
  causationid?: string;
  /** Further extension attributes: strings, numbers or booleans. */
  [extension: string]: unknown;
}

/**
 * A stored event, the one event type of the mesh: what history pages, live frames, webhooks and
 * queue consumers carry. With a catalog and a type of it, `data` is that type's schema output and
 * `type` narrows to the name; without (or for a type outside the catalog) `data` is untyped JSON.
 */
export type MeshEvent<C extends Catalog = EmptyCatalog, T extends string = string> = string extends T
  ? StoredAttributes & { type: string; data?: unknown }
  : T extends CatalogType<C>
    ? StoredAttributes & { type: T; data: EventData<C, T> }
    : StoredAttributes & { type: T; data?: unknown };

/** Narrows an event of any type to one catalog type, e.g. in an unfiltered subscription. */
export function isEventType<C extends Catalog, T extends CatalogType<C>>(
  event: MeshEvent<C>,
  type: T,
): event is MeshEvent<C, T> {
  return event.type === type;
}
