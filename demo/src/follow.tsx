import { useEffect, useState } from "preact/hooks";
import { createMeshClient, type SubscriptionState } from "../../client/index.ts";
import type { JsonObject } from "../../protocol/json.ts";
import type { TopicInfo } from "../../protocol/responses.ts";
import { api } from "./api.ts";
import { topicCredential } from "./credentials.ts";

/** One mesh client per topic followed, on the origin that served the page, with that topic's credential. */
const clientFor = (topic: string) => createMeshClient({ url: location.origin, token: topicCredential(topic) });

export type FollowState = SubscriptionState | "idle";

/**
 * Follows `topic` (none while it is null) from `after`, calling `onEvent` once per event in seq
 * order; the client resumes from its last seq after any disconnect. Keep `onEvent` stable
 * (useCallback): a new function resubscribes.
 */
export function useFollow(
  topic: string | null,
  options: { after: number; types?: readonly string[] },
  onEvent: (event: JsonObject) => void,
): FollowState {
  const [state, setState] = useState<FollowState>("idle");
  const typesKey = options.types?.join(",") ?? "";
  // typesKey stands for options.types
  useEffect(() => {
    if (!topic) {
      setState("idle");
      return;
    }
    setState("connecting");
    const client = clientFor(topic);
    client.subscribe(topic, {
      after: options.after,
      types: options.types,
      onEvent,
      onStateChange: (next) => setState(next),
    });
    return () => client.close();
  }, [topic, options.after, typesKey, onEvent]);
  return state;
}

/** The head of a topic when the page opened it (0 if it cannot be read), or null while loading. */
export function useTopicHead(topic: string): number | null {
  const [head, setHead] = useState<number | null>(null);
  useEffect(() => {
    const credential = topicCredential(topic);
    Promise.resolve(typeof credential === "function" ? credential() : credential)
      .then((token) => api<TopicInfo>(`/v1/topics/${encodeURIComponent(topic)}`, { credential: token }))
      .then(
        (info) => setHead(info.head),
        () => setHead(0),
      );
  }, [topic]);
  return head;
}

const LABEL: Record<FollowState, [tone: string, text: string]> = {
  idle: ["", "idle"],
  connecting: ["warn", "connecting"],
  replaying: ["warn", "catching up"],
  live: ["ok", "live"],
  reconnecting: ["warn", "reconnecting"],
  closed: ["danger", "offline"],
};

/** The state of a live subscription, as a small pill. */
export function ConnectionBadge({ state }: { state: FollowState }) {
  const [tone, text] = LABEL[state];
  return (
    <span class={`badge ${tone}`} data-testid="connection" data-state={state}>
      <span class={`dot ${state === "live" ? "pulse" : ""}`} />
      {text}
    </span>
  );
}
