import { topicMatches } from "../protocol/auth.ts";
import type { EventFilter } from "../protocol/event-filter.ts";
import type { SubscribedFrame, SubscribeFrame, UnsubscribedFrame } from "../protocol/frames.ts";
import type { HubFeeds } from "./hub-feeds.ts";
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
  startSub(sessions, session, { ...frame, after });
  sender.frame(session, { type: "subscribed", topic: frame.topic, after } satisfies SubscribedFrame);
  void replay.pump(session);
}

/** Where a subscription starts: the topic, the client's cursor and epoch, its types and filters. */
export interface SubStart {
  topic: string;
  after: number;
  epoch?: string;
  types?: string[];
  filter?: EventFilter[];
}

function startSub(sessions: HubSessions, session: Session, start: SubStart): void {
  // An empty filter would match nothing live but everything in replay: it means no filter.
  const types = start.types && start.types.length > 0 ? start.types : null;
  sessions.subscribe(session, {
    topic: start.topic,
    mode: "replaying",
    cursor: start.after,
    epoch: start.epoch ?? null,
    types,
    // An empty list of filters matches every event: it is no filter.
    filter: start.filter && start.filter.length > 0 ? start.filter : null,
    checked: false,
  });
}

/** A one-topic socket's cursor, checked before the socket is accepted. */
export type PinnedCheck =
  | { ok: true }
  | { ok: false; code: "cursor_ahead" | "overloaded"; message: string; retryAfterSeconds?: number };

/** How long a client waits before connecting again when the topic could not be reached. */
const UNREACHABLE_RETRY_SECONDS = 1;

/**
 * Checks the cursor of a socket opened on the one-topic URL before it is accepted, so a cursor the
 * topic's log never handed out is refused at connect (`cursor_ahead`, 4409) as it always was. A
 * cursor at or below the hub's head of the topic is known good; one beyond it is asked of the
 * topic's log, which may be ahead of the hub. A cursor of another epoch is never ahead: it starts
 * over with an epoch gap.
 */
export async function checkPinnedCursor(feeds: HubFeeds, start: SubStart): Promise<PinnedCheck> {
  try {
    const feed = await feeds.ready(start.topic);
    if ((start.epoch !== undefined && start.epoch !== feed.epoch) || start.after <= feed.head) return { ok: true };
    const page = await feeds.pull(start.topic, start.after, null);
    if (page.ok) return { ok: true };
    const message = `after=${start.after} is beyond the head of the topic (${page.head})`;
    return { ok: false, code: "cursor_ahead", message };
  } catch (error) {
    return {
      ok: false,
      code: "overloaded",
      message: `the topic could not be reached (${String(error)}): connect again`,
      retryAfterSeconds: UNREACHABLE_RETRY_SECONDS,
    };
  }
}

/**
 * The only subscription of a socket opened on the one-topic URL. It gets no `subscribed` frame:
 * its frames are the one-topic socket's (gap, replay, caught-up, live), as before hubs.
 */
export function subscribePinned(deps: SubscribeDeps, session: Session, start: SubStart): void {
  startSub(deps.sessions, session, start);
  void deps.replay.pump(session);
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
