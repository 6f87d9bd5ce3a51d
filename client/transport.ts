import type { BackoffPolicy } from "../protocol/backoff.ts";
import type { EventFilter } from "../protocol/event-filter.ts";
import type { CaughtUpFrame, EventFrame, EventsFrame, GapFrame } from "../protocol/frames.ts";
import type { HeartbeatOptions } from "./heartbeat.ts";

/**
 * What sits between a `Subscription` (one topic's cursor, states and callbacks) and a socket: a
 * transport carries one topic, either on a socket of its own (`topic-socket.ts`) or on one socket
 * shared by many topics (`mesh-connection.ts`). Both speak to the subscription through `TopicChannel`.
 */

/** Which socket a subscription rides on: one shared by the client's topics, or one of its own. */
export type ConnectionMode = "shared" | "own";

/**
 * A subscriber token (or key), or a function that fetches a fresh one: it is asked on every
 * connection, and before the open socket's token expires, to refresh it in band.
 */
export type TokenSource = string | (() => string | Promise<string>);

export interface SubscriptionError {
  /** The server's error code (e.g. `cursor_ahead`), or `close_<code>`, `invalid_frame`, `handler_error`. */
  code: string;
  message: string;
  /** The WebSocket close code, when the error closed the connection. */
  closeCode?: number;
  /** True when the subscription stopped for good. */
  terminal: boolean;
}

/** How a subscription reaches the mesh; filled in by the client. */
export interface ConnectionSettings {
  protocol: "ws" | "wss";
  host: string;
  /** Path prefix before `v1/`, without slashes ("" at the root). */
  prefix: string;
  WebSocket?: unknown;
  backoff: BackoffPolicy;
  heartbeat: HeartbeatOptions | false;
  connectionTimeoutMs: number;
  token?: TokenSource;
}

/** A rewind as the wire carries it (`protocol/rewind.ts`): the newest `last` events, or from `since`. */
export type RewindRequest = { last: number } | { since: string };

/** The frames that belong to one topic's stream, in the order the server sends them. */
export type TopicFrame = EventFrame | EventsFrame | CaughtUpFrame | GapFrame;

/** One followed topic as a transport sees it; a `Subscription` implements it. */
export interface TopicChannel {
  readonly topic: string;
  readonly types: readonly string[] | undefined;
  readonly filter: readonly EventFilter[] | undefined;
  /** Settles once the stored position is read: nothing is asked of the server before. */
  readonly ready: Promise<void>;
  /**
   * Where the topic resumes: after `lastSeq`, in `epoch`; or, until the server answered it once,
   * the rewind the subscription starts with (sent instead of the cursor).
   */
  position(): { after: number; epoch: string | undefined; rewind?: RewindRequest };
  /** The server resolved the rewind to a cursor: from now on the topic resumes from it. */
  started(after: number, epoch: string): void;
  /** The server started (re)playing the topic. */
  opened(): void;
  /** A frame of the topic's current stream. */
  receive(frame: TopicFrame): void;
  /** The topic's stream stopped; a resume from `position()` follows. */
  dropped(): void;
  /** A terminal refusal: the subscription closes and reports it. */
  fail(error: SubscriptionError): void;
  /** A failure the transport recovers from by itself. */
  report(error: SubscriptionError): void;
}

/** What a subscription asks of its transport. */
export interface Transport {
  /** Starts the topic again from `position()` after a backoff wait (a hole or a stale stream). */
  resync(reason: string): void;
  /** Drops the connection and resumes at once, without backoff. */
  reconnect(): void;
  /** The topic caught up: the backoff starts over. */
  settled(): void;
  /** The subscription ended: the transport lets go of the topic. */
  close(): void;
}
