import type { StoredRow } from "./log-store.ts";

/**
 * What a topic's object and the hubs that hold its subscribers say to each other (issue 15). The
 * topic pushes each committed append once to every hub attached to it; a hub serves its sockets
 * from the pushes and a window of recent events, and reads older positions from the topic's log.
 */

/**
 * One push: the rows after `prev`, in seq order and contiguous, of the log of `epoch`. A push with
 * no rows is a probe: it asks the hub where it stands. `oldest` is set when the rows start past
 * `prev + 1` because the events between were trimmed before the hub got them.
 */
export interface HubPush {
  topic: string;
  epoch: string;
  prev: number;
  rows: StoredRow[];
  /** The topic's head when the push was sent. */
  head: number;
  oldest?: number;
}

/**
 * The hub's answer: applied (its head for the topic now, and how many sockets follow the topic
 * there); `behind`, it lacks events before `prev` (the topic sends again from `head + 1`); or
 * `not_subscribed`, no socket of the hub follows the topic any more (the topic forgets the hub).
 */
export type HubPushResult =
  | { ok: true; head: number; subscribers: number }
  | { ok: false; code: "behind"; head: number }
  | { ok: false; code: "not_subscribed" };

/**
 * A hub asks a topic to push to it. `known` is the position the hub already holds for the topic
 * (after a restart of either side); the topic then pushes from there, so nothing is missed.
 */
export interface HubAttach {
  hub: string;
  known: { epoch: string; head: number } | null;
}

/** Where the topic's log stands when the hub attached: pushes follow from `head` (or `known.head`). */
export interface HubAttachResult {
  epoch: string;
  head: number;
  oldest: number;
}

/**
 * A page of the topic's log for a hub serving a resuming socket: the rows after `after` (with the
 * socket's type filter), where the log stands, and whether more rows follow.
 */
export interface HubReadPage {
  epoch: string;
  oldest: number;
  head: number;
  rows: StoredRow[];
  /** Read on from here for the next page. */
  next: number;
  more: boolean;
}

/** What a hub holds, for tests, operators and the bench. */
export interface HubStats {
  hub: string;
  sockets: number;
  topics: number;
  subscriptions: number;
  /** Pages read from topics' logs since the hub started (resumes its window could not serve). */
  pulls: number;
}
