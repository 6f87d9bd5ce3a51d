import { useEffect, useState } from "preact/hooks";
import type { GapFrame } from "../protocol/frames.ts";
import type { CursorStorage } from "./cursor-storage.ts";
import type { TopicEvent } from "./events.ts";
import type { MeshClient } from "./mesh-client.ts";
import type { SubscriptionError } from "./subscription.ts";
import type { SubscriptionState } from "./subscription-state.ts";

export interface UseTopicOptions<T extends string = string> {
  after?: number;
  types?: readonly T[];
  storage?: CursorStorage;
  storageKey?: string;
  /** Keep only the newest this many events (default 500). */
  limit?: number;
}

export interface TopicView<T extends string = string> {
  /** Events in seq order, oldest first, at most `limit`. */
  events: TopicEvent<T>[];
  state: SubscriptionState;
  lastSeq: number;
  /** The latest gap, if any events were skipped. */
  gap: GapFrame | null;
  /** The latest error; a terminal one comes with state `closed`. */
  error: SubscriptionError | null;
}

/**
 * Renders a topic live: subscribes on mount, resubscribes when the topic or filter changes,
 * closes on unmount. With `storage`, a reloaded page continues after the last event it showed.
 */
export function useTopic<T extends string = string>(
  client: MeshClient,
  topic: string,
  options: UseTopicOptions<T> = {},
): TopicView<T> {
  const [view, setView] = useState<TopicView<T>>(() => initialView(options.after));
  const limit = options.limit ?? 500;
  const typesKey = options.types?.join(",") ?? "";
  // `typesKey` stands in for `options.types`, which is often a new array on every render.
  useEffect(() => {
    setView(initialView(options.after));
    const subscription = client.subscribe<T>(topic, {
      after: options.after,
      types: options.types,
      storage: options.storage,
      storageKey: options.storageKey,
      onEvent: (event) => setView((v) => ({ ...v, events: [...v.events, event].slice(-limit), lastSeq: event.seq })),
      onStateChange: (state) => setView((v) => ({ ...v, state, lastSeq: subscription.lastSeq })),
      onGap: (gap) => setView((v) => ({ ...v, gap, lastSeq: subscription.lastSeq })),
      onError: (error) => setView((v) => ({ ...v, error })),
    });
    return () => subscription.close();
  }, [client, topic, typesKey, options.after, options.storage, options.storageKey, limit]);
  return view;
}

function initialView<T extends string>(after = 0): TopicView<T> {
  return { events: [], state: "connecting", lastSeq: after, gap: null, error: null };
}
