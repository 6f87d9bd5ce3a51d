import type { SubscriptionState } from "event-mesh/client";

type BadgeState = SubscriptionState | "idle";

const LABEL: Record<BadgeState, [tone: string, text: string]> = {
  idle: ["", "idle"],
  connecting: ["warn", "connecting"],
  replaying: ["warn", "catching up"],
  live: ["ok", "live"],
  reconnecting: ["warn", "reconnecting"],
  closed: ["danger", "offline"],
};

/** The state of a live subscription (`useTopic`'s `state`), as a small pill. */
export function ConnectionBadge({ state }: { state: BadgeState }) {
  const [tone, text] = LABEL[state];
  return (
    <span class={`badge ${tone}`} data-testid="connection" data-state={state}>
      <span class={`dot ${state === "live" ? "pulse" : ""}`} />
      {text}
    </span>
  );
}
