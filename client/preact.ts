import { useEffect, useRef, useState } from "preact/hooks";
import type { Catalog, EmptyCatalog } from "../protocol/catalog.ts";
import type { EventFilter } from "../protocol/event-filter.ts";
import type { GapFrame } from "../protocol/frames.ts";
import type { MeshEvent } from "../protocol/mesh-event.ts";
import type { PresenceMode } from "../protocol/presence.ts";
import type { CursorStorage } from "./cursor-storage.ts";
import type { MeshClient } from "./mesh-client.ts";
import type { Presence, PresenceView } from "./presence.ts";
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

export interface UsePresenceOptions {
  /**
   * Enter the topic's presence with this data (JSON, at most 1 KiB) as the token's subject; a new
   * value updates it. Left out: only follow who is here.
   */
  data?: unknown;
  /** `members` (default): the list and every change; `count`: occupancy only, for large rooms. */
  mode?: PresenceMode;
  /** This topic's credential, instead of the client's. */
  token?: TokenSource;
}

export interface PresenceHookView extends PresenceView {
  /** The latest refusal or failure (`no_subject`, `forbidden`…). */
  error: SubscriptionError | null;
}

/**
 * Who is on a topic, live: follows its presence on mount (and enters it when `data` is given),
 * updates the data when it changes, leaves and stops on unmount. A `null` topic follows nothing.
 */
export function usePresence<C extends Catalog = EmptyCatalog>(
  client: MeshClient<C>,
  topic: string | null,
  options: UsePresenceOptions = {},
): PresenceHookView {
  const [view, setView] = useState<PresenceHookView>(emptyPresence);
  const presence = useRef<Presence | null>(null);
  const dataJson = options.data === undefined ? undefined : JSON.stringify(options.data);
  const entering = dataJson !== undefined;
  // The data as of the last render, read when the presence starts: a change alone is an update below.
  const data = useRef(options.data);
  data.current = options.data;
  useEffect(() => {
    setView(emptyPresence());
    if (topic === null) return;
    const current = client.presence(topic, {
      mode: options.mode,
      enter: entering ? { data: data.current } : undefined,
      token: options.token,
      onChange: (next) => setView((v) => ({ ...next, error: v.error })),
      onError: (error) => setView((v) => ({ ...v, error })),
    });
    presence.current = current;
    return () => {
      presence.current = null;
      current.close();
    };
  }, [client, topic, options.mode, options.token, entering]);
  useEffect(() => {
    if (dataJson !== undefined) presence.current?.update(JSON.parse(dataJson));
  }, [dataJson]);
  return view;
}

function emptyPresence(): PresenceHookView {
  return { members: [], occupancy: { members: 0, connections: 0 }, synced: false, error: null };
}
