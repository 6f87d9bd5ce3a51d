import type { Catalog, EmptyCatalog } from "../protocol/catalog.ts";
import type { EventFilter } from "../protocol/event-filter.ts";
import type { GapFrame } from "../protocol/frames.ts";
import type { MeshEvent } from "../protocol/mesh-event.ts";
import { REWIND_MAX_LAST } from "../protocol/rewind.ts";
import { RFC3339 } from "../protocol/timestamp.ts";
import { type CursorStorage, cursorKey, parseStoredCursor, serializeCursor } from "./cursor-storage.ts";
import { type ConnectionInput, nextState, ResumeCursor, type SubscriptionState } from "./subscription-state.ts";
import { TopicSocket } from "./topic-socket.ts";
import type {
  ConnectionMode,
  ConnectionSettings,
  RewindRequest,
  SubscriptionError,
  TokenSource,
  TopicChannel,
  TopicFrame,
  Transport,
} from "./transport.ts";

export type { ConnectionSettings, SubscriptionError, TokenSource } from "./transport.ts";

export interface SubscribeOptions<C extends Catalog = EmptyCatalog, T extends string = string> {
  /** Start after this seq when no stored position exists (default 0: the oldest retained event). */
  after?: number;
  /**
   * Instead of `after`: start with the newest `last` events (0 to 1000; 0 is "from now") when no
   * stored position exists. Sent on the first subscribe only; then the subscription resumes from its cursor.
   */
  last?: number;
  /** Instead of `after`: start at the first event the topic stored at or after this time (a `Date` or RFC 3339). */
  since?: Date | string;
  /** Only these event types (default: all). Catalog types give `onEvent` typed `data`. */
  types?: readonly T[];
  /**
   * CloudEvents Subscriptions API filters the server evaluates (all must match), e.g.
   * `[{ prefix: { subject: "orders/" } }]`; sent again on every resubscribe.
   */
  filter?: readonly EventFilter[];
  /** Called once per event, in seq order, never twice for one seq. */
  onEvent: (event: MeshEvent<C, T>) => void;
  /** Events were skipped: trimmed by retention, or the topic's log was reset (new epoch). */
  onGap?: (gap: GapFrame) => void;
  onStateChange?: (state: SubscriptionState, previous: SubscriptionState) => void;
  /** A refusal or a failure. After a terminal one (`terminal: true`) the subscription is closed. */
  onError?: (error: SubscriptionError) => void;
  /** Keeps `lastSeq` and the epoch, so a new subscription (e.g. after a page reload) resumes. */
  storage?: CursorStorage;
  /** The key in `storage` (default `event-mesh:<topic>[:<sorted types>][:filter=<JSON>]`). */
  storageKey?: string;
  /** This subscription's credential, instead of the client's (e.g. a token scoped to this topic). */
  token?: TokenSource;
  /** The client's socket shared with its other topics, or one of this topic's own (default: the client's `connection`). */
  connection?: ConnectionMode;
}

/** Opens the transport a subscription rides on; by default a socket of the topic's own. */
export type OpenTransport = (channel: TopicChannel) => Transport;

/**
 * One topic followed live. It resumes after every disconnect from `lastSeq`, drops anything at or
 * below `lastSeq`, starts the topic again when it sees a hole, and stops on terminal refusals. See
 * `subscription-state.ts` for the rules; the socket itself is the transport's (`transport.ts`).
 */
export class Subscription<C extends Catalog = EmptyCatalog, T extends string = string> {
  readonly topic: string;
  private current: SubscriptionState = "connecting";
  private readonly cursor: ResumeCursor;
  private readonly transport: Transport;
  private readonly loaded: Promise<void>;
  private readonly key: string;
  private writing: Promise<void> | null = null;
  /** The rewind to send until the server resolves it to a cursor (or a stored position is found). */
  private rewind: RewindRequest | null;
  private unwritten: string | null = null;

  constructor(
    topic: string,
    private readonly options: SubscribeOptions<C, T>,
    settings: ConnectionSettings,
    open: OpenTransport = (channel) => new TopicSocket(channel, settings, options.token ?? settings.token),
  ) {
    const after = options.after ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) throw new RangeError("after must be a non-negative integer");
    this.topic = topic;
    this.rewind = rewindOption(options);
    this.key = options.storageKey ?? cursorKey(topic, options.types, options.filter);
    const filtered = (options.types?.length ?? 0) > 0 || (options.filter?.length ?? 0) > 0;
    this.cursor = new ResumeCursor(after, undefined, filtered);
    this.loaded = this.load();
    this.transport = open(this.channel());
  }

  get state(): SubscriptionState {
    return this.current;
  }

  /** The seq of the last event handed to `onEvent` (or skipped past by a gap or a filter). */
  get lastSeq(): number {
    return this.cursor.lastSeq;
  }

  /** The topic's epoch, once the server has named it. */
  get epoch(): string | undefined {
    return this.cursor.epoch;
  }

  /** Stops for good: no more events, no reconnects. */
  close(): void {
    if (this.current === "closed") return;
    this.transition("close");
    this.transport.close();
  }

  /** Drops the connection and resumes from `lastSeq` at once, e.g. when the device comes back online. */
  reconnect(): void {
    if (this.current === "closed") return;
    this.transport.reconnect();
  }

  /** The subscription as its transport sees it; kept off the public API. */
  private channel(): TopicChannel {
    return {
      topic: this.topic,
      types: this.options.types,
      filter: this.options.filter,
      ready: this.loaded,
      position: () => ({ after: this.cursor.lastSeq, epoch: this.cursor.epoch, rewind: this.rewind ?? undefined }),
      started: (after, epoch) => {
        if (this.rewind === null) return;
        this.rewind = null;
        this.cursor.lastSeq = after;
        this.cursor.epoch = epoch;
        this.save();
      },
      opened: () => this.transition("open"),
      receive: (frame) => this.receive(frame),
      dropped: () => this.transition("drop"),
      fail: (error) => {
        if (this.current === "closed") return;
        this.transition("terminal");
        this.transport.close();
        this.report(error);
      },
      report: (error) => {
        if (this.current !== "closed") this.report(error);
      },
    };
  }

  private async load(): Promise<void> {
    if (!this.options.storage) return;
    try {
      const stored = parseStoredCursor(await this.options.storage.get(this.key));
      if (stored) {
        this.cursor.lastSeq = stored.lastSeq;
        this.cursor.epoch = stored.epoch;
        // A stored position wins over a rewind, as over `after`.
        this.rewind = null;
      }
    } catch {
      // An unreadable store means starting from `after`, as without one.
    }
  }

  private receive(frame: TopicFrame): void {
    if (this.current === "closed") return;
    switch (frame.type) {
      case "event":
        this.receiveEvent(frame.event as MeshEvent<C, T>);
        return;
      case "events":
        for (const event of frame.events) {
          if (!this.receiveEvent(event as MeshEvent<C, T>)) return;
        }
        return;
      case "caught-up":
        if (this.cursor.caughtUp(frame.head, frame.epoch) === "hole") {
          this.resync(`caught up at ${frame.head} but last event was ${this.cursor.lastSeq}`);
          return;
        }
        this.transport.settled();
        this.save();
        this.transition("caught-up");
        return;
      case "gap":
        this.cursor.gap(frame.oldest, frame.epoch);
        this.save();
        this.options.onGap?.(frame);
        return;
    }
  }

  /** One event in seq order; false when it showed a hole and the topic is being started again. */
  private receiveEvent(event: MeshEvent<C, T>): boolean {
    // A handler may close the subscription halfway through a batched frame.
    if (this.current === "closed") return false;
    const decision = this.cursor.event(event.seq);
    if (decision === "hole") {
      this.resync(`event ${event.seq} arrived after ${this.cursor.lastSeq}`);
      return false;
    }
    if (decision === "deliver") this.deliver(event);
    return true;
  }

  private deliver(event: MeshEvent<C, T>): void {
    try {
      this.options.onEvent(event);
    } catch (err) {
      // The event counts as handled: one failing handler call must not stall the topic.
      this.report({ code: "handler_error", message: String(err), terminal: false });
    }
    this.save();
  }

  /** Starts the topic again from `lastSeq` instead of showing events out of order. */
  private resync(reason: string): void {
    if (this.current === "closed") return;
    this.transport.resync(reason);
  }

  private report(error: SubscriptionError): void {
    this.options.onError?.(error);
  }

  private transition(input: ConnectionInput): void {
    const previous = this.current;
    const next = nextState(previous, input);
    if (next === previous) return;
    this.current = next;
    this.options.onStateChange?.(next, previous);
  }

  /** Writes the position; with an async store, writes stay in order and only the newest waits. */
  private save(): void {
    const storage = this.options.storage;
    if (!storage) return;
    const value = serializeCursor({ lastSeq: this.cursor.lastSeq, epoch: this.cursor.epoch });
    if (this.writing) {
      this.unwritten = value;
      return;
    }
    let result: void | Promise<void>;
    try {
      result = storage.set(this.key, value);
    } catch {
      return;
    }
    if (!result || typeof result.then !== "function") return;
    this.writing = result
      .catch(() => undefined)
      .then(() => {
        this.writing = null;
        if (this.unwritten !== null) {
          this.unwritten = null;
          this.save();
        }
      });
  }
}

/** The subscription's rewind option in wire form; a `RangeError` for a bad or contradictory one. */
function rewindOption(options: { after?: number; last?: number; since?: Date | string }): RewindRequest | null {
  const { after, last, since } = options;
  if (last === undefined && since === undefined) return null;
  if (last !== undefined && since !== undefined) throw new RangeError("give last or since, not both");
  if (after !== undefined) throw new RangeError("give after or a rewind (last, since), not both");
  if (last !== undefined) {
    if (!Number.isSafeInteger(last) || last < 0 || last > REWIND_MAX_LAST) {
      throw new RangeError(`last must be an integer from 0 to ${REWIND_MAX_LAST}`);
    }
    return { last };
  }
  const text = since instanceof Date ? (Number.isNaN(since.getTime()) ? "" : since.toISOString()) : String(since);
  if (!RFC3339.test(text) || Number.isNaN(Date.parse(text))) {
    throw new RangeError("since must be a valid Date or an RFC 3339 timestamp");
  }
  return { since: text };
}
