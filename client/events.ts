import type { CatalogType, EventData } from "../protocol/catalog.ts";
import type { MeshEvent } from "../protocol/envelope.ts";

/**
 * An event as a subscriber receives it, typed from the event catalog: with a `types` filter of
 * catalog types, `data` has the type of each type's schema and `type` narrows it. Without a
 * filter (or for types outside the catalog) it is a plain stored event.
 */
export type TopicEvent<T extends string = string> = string extends T
  ? MeshEvent
  : T extends CatalogType
    ? MeshEvent<EventData<T>> & { type: T }
    : MeshEvent & { type: T };

/** Narrows an unfiltered subscription's event to one catalog type. */
export function isEventType<T extends CatalogType>(event: MeshEvent, type: T): event is TopicEvent<T> {
  return event.type === type;
}
