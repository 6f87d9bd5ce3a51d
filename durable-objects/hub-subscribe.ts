import { topicMatches } from "../protocol/auth.ts";
import type { SubscribedFrame, SubscribeFrame, UnsubscribedFrame } from "../protocol/frames.ts";
import type { HubReplay } from "./hub-replay.ts";
import type { HubSender } from "./hub-sender.ts";
import type { HubSessions, Session } from "./hub-sessions.ts";
import type { SocketScope } from "./hub-store.ts";

export interface SubscribeDeps {
  sessions: HubSessions;
  sender: HubSender;
  replay: HubReplay;
  maxTopicsPerSocket: number;
}

/** True when the socket's token or key allows following `topic`. */
export function scopeAllows(scope: SocketScope, topic: string): boolean {
  return scope.ops.includes("subscribe") && scope.topics.some((pattern) => topicMatches(pattern, topic));
}

/**
 * A `subscribe` frame: checked against the socket's scope and its topic limit (a refusal ends only
 * that topic), then `subscribed`, and the replay brings it to live. Subscribing again to a topic
 * replaces its subscription: the new one starts from the cursor given now.
 */
export function subscribe(deps: SubscribeDeps, session: Session, frame: SubscribeFrame): void {
  const { sessions, sender, replay } = deps;
  const refused = refusal(deps, session, frame.topic);
  if (refused) {
    sender.frame(session, { type: "unsubscribed", topic: frame.topic, ...refused } satisfies UnsubscribedFrame);
    return;
  }
  const after = frame.after ?? 0;
  // An empty filter would match nothing live but everything in replay: it means no filter.
  const types = frame.types && frame.types.length > 0 ? frame.types : null;
  sessions.subscribe(session, {
    topic: frame.topic,
    mode: "replaying",
    cursor: after,
    epoch: frame.epoch ?? null,
    types,
    checked: false,
  });
  sender.frame(session, { type: "subscribed", topic: frame.topic, after } satisfies SubscribedFrame);
  void replay.pump(session);
}

function refusal(
  deps: SubscribeDeps,
  session: Session,
  topic: string,
): Omit<UnsubscribedFrame, "type" | "topic"> | null {
  if (!scopeAllows(session.scope, topic)) {
    return { code: "forbidden", message: `this credential does not allow subscribe on topic "${topic}"` };
  }
  if (!session.subs.has(topic) && session.subs.size >= deps.maxTopicsPerSocket) {
    return {
      code: "too_many_subscriptions",
      message: `this socket follows ${deps.maxTopicsPerSocket} topics, its limit: unsubscribe one first`,
    };
  }
  return null;
}

/** An `unsubscribe` frame: answered with `unsubscribed`, whether or not the topic was followed. */
export function unsubscribe(deps: SubscribeDeps, session: Session, topic: string): void {
  deps.sessions.unsubscribe(session, topic);
  deps.sender.frame(session, { type: "unsubscribed", topic } satisfies UnsubscribedFrame);
}
