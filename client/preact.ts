import { useEffect, useRef, useState } from "preact/hooks";
import type { Catalog, EmptyCatalog } from "../protocol/catalog.ts";
import type { EventFilter } from "../protocol/event-filter.ts";
import type { GapFrame } from "../protocol/frames.ts";
import type { MeshEvent } from "../protocol/mesh-event.ts";
import type { CursorStorage } from "./cursor-storage.ts";
import type { MeshClient } from "./mesh-client.ts";
import type { SubscriptionState } from "./subscription-state.ts";
import type { SubscriptionError, TokenSource } from "./transport.ts";

export interface UseTopicOptions<C extends Catalog = EmptyCatalog, T extends string = string> {
  after?: number;
  /** Start with the newest this many events (0: from now) instead of `after`, e.g. a chat's last 50 messages. */
  last?: number;
  /** Start at the first event stored at or after this time instead of `after`. */
  since?: Date | string;
  types?: readonly T[];
  /** CloudEvents Subscriptions API filters, as `subscribe`'s `filter`. */
  filter?: readonly EventFilter[];
  storage?: CursorStorage;
  storageKey?: string;
  /** Keep only the newest this many events in `events` (default 500; 0 keeps none). */
  limit?: number;
  /** This topic's credential, instead of the client's (e.g. a function fetching a token for it). */
  token?: TokenSource;
  /**
   * Called once per event, in seq order, as it arrives: for effects such as a toast. The latest
   * function is always the one called, so it need not be stable.
   */
  onEvent?: (event: MeshEvent<C, T>) => void;
}

export interface TopicView<C extends Catalog = EmptyCatalog, T extends string = string> {
  /** Events in seq order, oldest first, at most `limit`. */
  events: MeshEvent<C, T>[];
  /** `idle` while no topic is given. */
  state: SubscriptionState | "idle";
  lastSeq: number;
  /** The latest gap, if any events were skipped. */
  gap: GapFrame | null;
  /** The latest error; a terminal one comes with state `closed`. */
  error: SubscriptionError | null;
}

/**
 * Renders a topic live: subscribes on mount, resubscribes when the topic, filter or credential
 * changes, closes on unmount. A `null` topic follows nothing (e.g. until the user is known). With
 * `storage`, a reloaded page continues after the last event it showed.
 */
export function useTopic<C extends Catalog = EmptyCatalog, T extends string = string>(
  client: MeshClient<C>,
  topic: string | null,
  options: UseTopicOptions<C, T> = {},
): TopicView<C, T> {
  const [view, setView] = useState<TopicView<C, T>>(() => initialView(topic, options.after));
  const onEvent = useRef(options.onEvent);
  onEvent.current = options.onEvent;
  const limit = options.limit ?? 500;
  const typesKey = options.types?.join(",") ?? "";
  const sinceKey = options.since instanceof Date ? options.since.getTime() : options.since;
  const filterKey = options.filter ? JSON.stringify(options.filter) : "";
  // The keys stand in for `options.types`, `options.since` and `options.filter`, often new objects on every render.
  useEffect(() => {
    setView(initialView(topic, options.after));
    if (topic === null) return;
    const subscription = client.subscribe<T>(topic, {
      after: options.after,
      last: options.last,
      since: options.since,
      types: options.types,
      filter: options.filter,
      storage: options.storage,
      storageKey: options.storageKey,
      token: options.token,
      onEvent: (event) => {
        setView((v) => ({
          ...v,
          events: limit > 0 ? [...v.events, event].slice(-limit) : v.events,
          lastSeq: event.seq,
        }));
        onEvent.current?.(event);
      },
      onStateChange: (state) => setView((v) => ({ ...v, state, lastSeq: subscription.lastSeq })),
      onGap: (gap) => setView((v) => ({ ...v, gap, lastSeq: subscription.lastSeq })),
      onError: (error) => setView((v) => ({ ...v, error })),
    });
    return () => subscription.close();
  }, [
    client,
    topic,
    typesKey,
    filterKey,
    options.after,
    options.last,
    sinceKey,
    options.storage,
    options.storageKey,
    options.token,
    limit,
  ]);
  return view;
}

function initialView<C extends Catalog, T extends string>(topic: string | null, after = 0): TopicView<C, T> {
  return { events: [], state: topic === null ? "idle" : "connecting", lastSeq: after, gap: null, error: null };
}
