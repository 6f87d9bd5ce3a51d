import { topicMatches } from "../protocol/auth.ts";
import type { EventFilter } from "../protocol/event-filter.ts";
import type { SubscribedFrame, SubscribeFrame, UnsubscribedFrame } from "../protocol/frames.ts";
import { type Rewind, rewindOf } from "../protocol/rewind.ts";
import type { HubFeeds } from "./hub-feeds.ts";
import type { HubReplay } from "./hub-replay.ts";
import type { ResolveRewind } from "./hub-rewind.ts";
import type { HubSender } from "./hub-sender.ts";
import type { HubSessions, Session } from "./hub-sessions.ts";
import type { SocketScope } from "./hub-store.ts";
import type { SerialChains } from "./serial-chains.ts";
import type { RewindStart } from "./topic-log.ts";

export interface SubscribeDeps {
  sessions: HubSessions;
  sender: HubSender;
  replay: HubReplay;
  maxTopicsPerSocket: number;
  resolveRewind: ResolveRewind;
  /**
   * A socket's frames of one topic, in order: while a rewind is asked of the topic's log the hub
   * takes other frames, and a later subscribe or unsubscribe of that topic waits for its answer
   * (clients match answers to their subscribes by order).
   */
  turns: SerialChains;
}

/** True when the socket's token or key allows following `topic`. */
export function scopeAllows(scope: SocketScope, topic: string): boolean {
  return scope.ops.includes("subscribe") && scope.topics.some((pattern) => topicMatches(pattern, topic));
}

/**
 * A `subscribe` frame: checked against the socket's scope and its topic limit (a refusal ends only
 * that topic), then `subscribed`, and the replay brings it to live. Subscribing again to a topic
 * replaces its subscription: the new one starts from the cursor given now. A rewind (`last`,
 * `since`) is first resolved to a cursor by the topic's log; `subscribed` names that cursor and its
 * epoch, and from there the replay is the one a client's `after` gets.
 */
export function subscribe(deps: SubscribeDeps, session: Session, frame: SubscribeFrame): void {
  void deps.turns.run(session.sid, frame.topic, () => subscribeNow(deps, session, frame));
}

function subscribeNow(deps: SubscribeDeps, session: Session, frame: SubscribeFrame): Promise<void> | undefined {
  const { sessions, sender, replay } = deps;
  const refused = refusal(deps, session, frame.topic);
  if (refused) {
    sender.frame(session, { type: "unsubscribed", topic: frame.topic, ...refused } satisfies UnsubscribedFrame);
    return;
  }
  const rewind = rewindOf(frame);
  if (rewind) return subscribeRewound(deps, session, frame, rewind);
  const after = frame.after ?? 0;
  startSub(sessions, session, { ...frame, after });
  sender.frame(session, { type: "subscribed", topic: frame.topic, after } satisfies SubscribedFrame);
  void replay.pump(session);
}

async function subscribeRewound(
  deps: SubscribeDeps,
  session: Session,
  frame: SubscribeFrame,
  rewind: Rewind,
): Promise<void> {
  const { topic } = frame;
  let start: RewindStart;
  try {
    start = await deps.resolveRewind(topic, rewind);
  } catch (error) {
    if (!isOpen(deps, session)) return;
    const message = `the topic could not be reached (${String(error)}): subscribe again`;
    const ended: UnsubscribedFrame = {
      type: "unsubscribed",
      topic,
      code: "overloaded",
      message,
      retryAfterSeconds: UNREACHABLE_RETRY_SECONDS,
    };
    deps.sender.frame(session, ended);
    return;
  }
  if (!isOpen(deps, session)) return;
  // Subscribes of other topics may have filled the socket while the log was asked.
  const refused = refusal(deps, session, topic);
  if (refused) {
    deps.sender.frame(session, { type: "unsubscribed", topic, ...refused } satisfies UnsubscribedFrame);
    return;
  }
  const { after, epoch } = start;
  startSub(deps.sessions, session, { topic, after, epoch, types: frame.types, filter: frame.filter });
  deps.sender.frame(session, { type: "subscribed", topic, after, epoch } satisfies SubscribedFrame);
  void deps.replay.pump(session);
}

/** The socket is still open and held by the hub (it may close while a topic's log is asked). */
function isOpen(deps: SubscribeDeps, session: Session): boolean {
  return deps.sessions.bySid(session.sid) === session && session.ws.readyState === WebSocket.OPEN;
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

/** A one-topic socket's start, checked (and a rewind resolved) before the socket is accepted. */
export type PinnedCheck =
  | { ok: true; start: SubStart; announce: SubscribedFrame | null }
  | { ok: false; code: "cursor_ahead" | "overloaded"; message: string; retryAfterSeconds?: number };

/** How long a client waits before connecting again when the topic could not be reached. */
const UNREACHABLE_RETRY_SECONDS = 1;

/**
 * Checks the cursor of a socket opened on the one-topic URL before it is accepted, so a cursor the
 * topic's log never handed out is refused at connect (`cursor_ahead`, 4409) as it always was. A
 * cursor at or below the hub's head of the topic is known good; one beyond it is asked of the
 * topic's log, which may be ahead of the hub. A cursor of another epoch is never ahead: it starts
 * over with an epoch gap. A rewind is resolved by the topic's log instead; the socket is then sent
 * a `subscribed` frame naming the cursor it resolved to (`announce`), so its client can resume from it.
 */
export async function checkPinnedCursor(
  feeds: HubFeeds,
  resolve: ResolveRewind,
  start: SubStart,
  rewind: Rewind | null,
): Promise<PinnedCheck> {
  try {
    if (rewind) {
      const { after, epoch } = await resolve(start.topic, rewind);
      const announce: SubscribedFrame = { type: "subscribed", topic: start.topic, after, epoch };
      return { ok: true, start: { ...start, after, epoch }, announce };
    }
    const feed = await feeds.ready(start.topic);
    if ((start.epoch !== undefined && start.epoch !== feed.epoch) || start.after <= feed.head) {
      return { ok: true, start, announce: null };
    }
    const page = await feeds.pull(start.topic, start.after, null);
    if (page.ok) return { ok: true, start, announce: null };
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
 * The only subscription of a socket opened on the one-topic URL. It gets no `subscribed` frame
 * (unless it rewound, `announce`): its frames are the one-topic socket's (gap, replay, caught-up,
 * live), as before hubs.
 */
export function subscribePinned(
  deps: SubscribeDeps,
  session: Session,
  start: SubStart,
  announce: SubscribedFrame | null,
): void {
  startSub(deps.sessions, session, start);
  if (announce) deps.sender.frame(session, announce);
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
  void deps.turns.run(session.sid, topic, () => {
    deps.sessions.unsubscribe(session, topic);
    deps.sender.frame(session, { type: "unsubscribed", topic } satisfies UnsubscribedFrame);
    return undefined;
  });
}
