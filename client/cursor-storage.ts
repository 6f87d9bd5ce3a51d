import * as v from "valibot";
import type { EventFilter } from "../protocol/event-filter.ts";

/**
 * Where a subscription keeps its position between page loads or process restarts. Any key-value
 * store fits: sessionStorage (one tab), localStorage (every tab), IndexedDB or a file (async).
 */
export interface CursorStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/** What is kept per subscription: the last seq handled and the topic epoch it belongs to. */
const StoredCursorSchema = v.object({
  lastSeq: v.pipe(v.number(), v.integer(), v.minValue(0)),
  epoch: v.optional(v.string()),
});
export type StoredCursor = v.InferOutput<typeof StoredCursorSchema>;

/** Reads a stored cursor; anything unreadable counts as none (the subscription starts afresh). */
export function parseStoredCursor(text: string | null | undefined): StoredCursor | null {
  if (!text) return null;
  try {
    const result = v.safeParse(StoredCursorSchema, JSON.parse(text));
    return result.success ? result.output : null;
  } catch {
    return null;
  }
}

export function serializeCursor(cursor: StoredCursor): string {
  return JSON.stringify(cursor);
}

/**
 * The default key: one position per topic and filter (a filtered position has passed events the
 * filter refused, so it must not resume another filter or none).
 */
export function cursorKey(topic: string, types?: readonly string[], filter?: readonly EventFilter[]): string {
  const byType = types && types.length > 0 ? `:${[...types].sort().join(",")}` : "";
  const byFilter = filter && filter.length > 0 ? `:filter=${JSON.stringify(filter)}` : "";
  return `event-mesh:${topic}${byType}${byFilter}`;
}

/**
 * The part of the Web Storage API that `webStorage` uses, written out rather than taken from the
 * DOM's `Storage`, so the client also type-checks without DOM types (Workers, Node).
 */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Adapts `sessionStorage` or `localStorage` (anything with getItem/setItem). */
export function webStorage(storage: KeyValueStorage): CursorStorage {
  return {
    get: (key) => storage.getItem(key),
    set: (key, value) => {
      try {
        storage.setItem(key, value);
      } catch {
        // Quota or private mode: resuming after a reload is lost, live delivery is not.
      }
    },
  };
}

/** An in-memory store, e.g. to hand a position from one subscription to the next in one process. */
export function memoryStorage(): CursorStorage & { readonly entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    get: (key) => entries.get(key) ?? null,
    set: (key, value) => {
      entries.set(key, value);
    },
  };
}
