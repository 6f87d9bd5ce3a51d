import {
  compileFilters,
  type EventFilter,
  type EventPredicate,
  type FilterableEvent,
} from "../protocol/event-filter.ts";
import type { StoredRow } from "./log-store.ts";

/** Whether a stored row is one a subscription takes. */
export type RowFilter = (row: StoredRow) => boolean;

// A push's rows are the same objects for every socket of a hub: each is parsed once, however many
// filtered subscriptions look at it, and a list of filters is compiled once per subscription.
const parsed = new WeakMap<StoredRow, FilterableEvent>();
const compiled = new WeakMap<readonly EventFilter[], RowFilter>();

function attributes(row: StoredRow): FilterableEvent {
  let event = parsed.get(row);
  if (!event) {
    event = JSON.parse(row.body) as FilterableEvent;
    parsed.set(row, event);
  }
  return event;
}

/** The row filter of a subscription's filters; null when it has none (every row is taken). */
export function rowFilter(filters: readonly EventFilter[] | null | undefined): RowFilter | null {
  if (!filters || filters.length === 0) return null;
  let filter = compiled.get(filters);
  if (!filter) {
    const matches: EventPredicate = compileFilters(filters);
    filter = (row) => matches(attributes(row));
    compiled.set(filters, filter);
  }
  return filter;
}

/** Whether a row is taken by a subscription's types (checked first: no parse) and filters. */
export function takesRow(
  row: StoredRow,
  types: readonly string[] | null | undefined,
  filter: RowFilter | null,
): boolean {
  return (!types || types.includes(row.type)) && (filter === null || filter(row));
}
