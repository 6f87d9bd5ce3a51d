import PartySocket from "partysocket";
import { type BackoffPolicy, backoffDelay } from "../protocol/backoff.ts";
import type { Catalog, EmptyCatalog } from "../protocol/catalog.ts";
import { CLOSE, isTerminalCloseCode } from "../protocol/close-codes.ts";
import {
  ackFrame,
  authFrame,
  type ErrorFrame,
  type GapFrame,
  HEARTBEAT_PING,
  HEARTBEAT_PONG,
  parseServerFrame,
} from "../protocol/frames.ts";
import type { MeshEvent } from "../protocol/mesh-event.ts";
import { type CursorStorage, cursorKey, parseStoredCursor, serializeCursor } from "./cursor-storage.ts";
import { Heartbeat, type HeartbeatOptions } from "./heartbeat.ts";
import { type ConnectionInput, nextState, ResumeCursor, type SubscriptionState } from "./subscription-state.ts";
import { refreshDelayMs, tokenExpiresAt } from "./token-refresh.ts";

export interface SubscribeOptions<C extends Catalog = EmptyCatalog, T extends string = string> {
  /** Start after this seq when no stored position exists (default 0: the oldest retained event). */
  after?: number;
  /** Only these event types (default: all). Catalog types give `onEvent` typed `data`. */
  types?: readonly T[];
  /** Called once per event, in seq order, never twice for one seq. */
  onEvent: (event: MeshEvent<C, T>) => void;
  /** Events were skipped: trimmed by retention, or the topic's log was reset (new epoch). */
  onGap?: (gap: GapFrame) => void;
  onStateChange?: (state: SubscriptionState, previous: SubscriptionState) => void;
  /** A refusal or a failure. After a terminal one (`terminal: true`) the subscription is closed. */
  onError?: (error: SubscriptionError) => void;
  /** Keeps `lastSeq` and the epoch, so a new subscription (e.g. after a page reload) resumes. */
  storage?: CursorStorage;
  /** The key in `storage` (default `event-mesh:<topic>[:<sorted types>]`). */
  storageKey?: string;
  /** This subscription's credential, instead of the client's `token` (e.g. a token scoped to this topic). */
  token?: TokenSource;
}

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

/**
 * A subscriber token (or key), or a function that fetches a fresh one: it is asked on every
 * connection, and before the open socket's token expires, to refresh it in band.
 */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * One topic followed live. It resumes after every disconnect from `lastSeq` (partysocket asks for
 * the query on each reconnect), drops anything at or below `lastSeq`, reconnects when it sees a
 * hole, and stops on terminal close codes. See `subscription-state.ts` for the rules.
 */
export class Subscription<C extends Catalog = EmptyCatalog, T extends string = string> {
  readonly topic: string;
  private current: SubscriptionState = "connecting";
  private readonly cursor: ResumeCursor;
  private readonly socket: PartySocket;
  private readonly heartbeat: Heartbeat | null;
  private readonly loaded: Promise<void>;
  private readonly key: string;
  /** Reconnects since the subscription was last live; drives the backoff. */
  private attempt = 0;
  private started = false;
  /** Set by `reconnect()`: the next connection skips the backoff wait. */
  private immediate = false;
  private wait: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | null = null;
  /** An error frame waits for the close that usually follows, so both are reported as one. */
  private pendingError: ErrorFrame | null = null;
  /** The least wait before the next connection, when the server asked for one (`retryAfterSeconds`). */
  private serverDelayMs = 0;
  private writing: Promise<void> | null = null;
  private unwritten: string | null = null;
  /** The expiry of the token the open socket runs on, and the timer that refreshes it before then. */
  private tokenExpiry: number | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Set once the server accepted this connection (its first frame other than an error). */
  private refreshArmed = false;

  constructor(
    topic: string,
    private readonly options: SubscribeOptions<C, T>,
    private readonly settings: ConnectionSettings,
  ) {
    const after = options.after ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) throw new RangeError("after must be a non-negative integer");
    this.topic = topic;
    this.key = options.storageKey ?? cursorKey(topic, options.types);
    this.cursor = new ResumeCursor(after, undefined, (options.types?.length ?? 0) > 0);
    this.loaded = this.load();
    this.heartbeat =
      settings.heartbeat === false
        ? null
        : new Heartbeat(
            settings.heartbeat,
            () => this.socket.send(HEARTBEAT_PING),
            () => this.resync("no answer to heartbeat"),
          );
    this.socket = new PartySocket({
      host: settings.host,
      protocol: settings.protocol,
      basePath: `${settings.prefix ? `${settings.prefix}/` : ""}v1/topics/${topic}/ws`,
      query: () => this.nextQuery(),
      WebSocket: settings.WebSocket,
      // partysocket's own delays have no jitter: they are off, `nextQuery` waits instead.
      minReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      connectionTimeout: settings.connectionTimeoutMs,
      // Pings queued while disconnected would be stale; never queue.
      maxEnqueuedMessages: 0,
      shouldReconnectOnClose: (event) => !this.isTerminal(event.code),
    });
    this.socket.addEventListener("open", () => this.onOpen());
    this.socket.addEventListener("message", (event) => this.onMessage(event.data));
    this.socket.addEventListener("close", (event) => this.onClose(event.code, event.reason));
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
    this.heartbeat?.stop();
    this.stopRefresh();
    this.endWait();
    this.socket.close(1000, "closed by client");
  }

  /** Drops the connection and resumes from `lastSeq` at once, e.g. when the device comes back online. */
  reconnect(): void {
    if (this.current === "closed") return;
    this.immediate = true;
    this.endWait();
    this.socket.reconnect(1000, "reconnect");
  }

  private async load(): Promise<void> {
    if (!this.options.storage) return;
    try {
      const stored = parseStoredCursor(await this.options.storage.get(this.key));
      if (stored) {
        this.cursor.lastSeq = stored.lastSeq;
        this.cursor.epoch = stored.epoch;
      }
    } catch {
      // An unreadable store means starting from `after`, as without one.
    }
  }

  /**
   * partysocket calls this before every connection: the backoff wait, then the current position.
   * Even the first reconnect waits a random while, so a restarted server is not hit by every
   * client at once.
   */
  private async nextQuery(): Promise<Record<string, string>> {
    await this.loaded;
    if (this.started && !this.immediate) {
      this.attempt += 1;
      const delay = Math.max(backoffDelay(this.attempt, this.settings.backoff), this.serverDelayMs);
      this.serverDelayMs = 0;
      await new Promise<void>((resolve) => {
        this.wait = { timer: setTimeout(resolve, delay), resolve };
      });
      this.wait = null;
    }
    this.started = true;
    this.immediate = false;
    // Several events per frame where the server has them together: fewer frames to parse in catch-up.
    const query: Record<string, string> = { after: String(this.cursor.lastSeq), batch: "true" };
    const token = await this.freshToken();
    if (token !== undefined) query.token = token;
    this.tokenExpiry = token === undefined ? undefined : tokenExpiresAt(token);
    if (this.options.types && this.options.types.length > 0) query.types = this.options.types.join(",");
    if (this.cursor.epoch !== undefined) query.epoch = this.cursor.epoch;
    return query;
  }

  /** The subscription's own credential, else the client's. */
  private get tokenSource(): TokenSource | undefined {
    return this.options.token ?? this.settings.token;
  }

  /** Asks the token source; a failing token function is retried with the same backoff. */
  private async freshToken(): Promise<string | undefined> {
    const source = this.tokenSource;
    if (typeof source !== "function") return source;
    for (;;) {
      try {
        return await source();
      } catch (err) {
        this.report({ code: "token_error", message: `the token function failed: ${String(err)}`, terminal: false });
        if (this.current === "closed") return undefined;
        this.attempt += 1;
        const delay = backoffDelay(this.attempt, this.settings.backoff);
        await new Promise<void>((resolve) => {
          this.wait = { timer: setTimeout(resolve, delay), resolve };
        });
        this.wait = null;
      }
    }
  }

  /** Terminal codes stop the subscription, except an expired token when a fresh one can be fetched. */
  private isTerminal(code: number): boolean {
    if (code === CLOSE.tokenExpired && typeof this.tokenSource === "function") return false;
    return isTerminalCloseCode(code);
  }

  private endWait(): void {
    if (!this.wait) return;
    clearTimeout(this.wait.timer);
    this.wait.resolve();
    this.wait = null;
  }

  private onOpen(): void {
    if (this.current === "closed") return;
    this.pendingError = null;
    this.transition("open");
    this.heartbeat?.start();
    this.refreshArmed = false;
  }

  /** With a token function, the open socket's token is replaced before it expires (`auth:<token>`). */
  private scheduleRefresh(): void {
    this.stopRefresh();
    const expiry = this.tokenExpiry;
    if (expiry === undefined || typeof this.tokenSource !== "function") return;
    this.refreshTimer = setTimeout(() => void this.refreshToken(expiry), refreshDelayMs(expiry, Date.now()));
  }

  private stopRefresh(): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  /**
   * Sends a fresh token. If none comes, or it expires no later than the current one, the socket
   * runs on until the server closes it at expiry (4440) and the reconnect fetches one.
   */
  private async refreshToken(expiry: number): Promise<void> {
    this.refreshTimer = null;
    const source = this.tokenSource;
    if (typeof source !== "function") return;
    let token: string;
    try {
      token = await source();
    } catch (err) {
      this.report({ code: "token_error", message: `the token function failed: ${String(err)}`, terminal: false });
      return;
    }
    const next = tokenExpiresAt(token);
    if (this.current === "closed" || this.tokenExpiry !== expiry || next === undefined || next <= expiry) return;
    this.tokenExpiry = next;
    this.socket.send(authFrame(token));
  }

  private onMessage(data: unknown): void {
    if (this.current === "closed" || typeof data !== "string") return;
    this.heartbeat?.seen();
    if (data === HEARTBEAT_PONG) return;
    const frame = parseServerFrame(data);
    if (!frame) {
      this.report({ code: "invalid_frame", message: `not a frame: ${data.slice(0, 100)}`, terminal: false });
      return;
    }
    this.flushPendingError();
    if (!this.refreshArmed && frame.type !== "error") {
      this.refreshArmed = true;
      this.scheduleRefresh();
    }
    switch (frame.type) {
      case "event":
        this.receive(frame.event as MeshEvent<C, T>);
        return;
      case "events":
        for (const event of frame.events) {
          if (!this.receive(event as MeshEvent<C, T>)) return;
        }
        return;
      case "caught-up":
        if (this.cursor.caughtUp(frame.head, frame.epoch) === "hole") {
          this.resync(`caught up at ${frame.head} but last event was ${this.cursor.lastSeq}`);
          return;
        }
        this.attempt = 0;
        this.save();
        this.transition("caught-up");
        return;
      case "gap":
        this.cursor.gap(frame.oldest, frame.epoch);
        this.save();
        this.options.onGap?.(frame);
        return;
      case "error":
        this.pendingError = frame;
        return;
      case "token-refreshed":
        this.scheduleRefresh();
        return;
      case "mark":
        // Everything before the mark was delivered above: the server may send more (flow control).
        this.socket.send(ackFrame(frame.id));
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    this.heartbeat?.stop();
    this.stopRefresh();
    if (this.current === "closed") return;
    if (code === CLOSE.tokenExpired && !this.isTerminal(code)) {
      // Reconnect at once: the query asks the token function for a fresh token.
      this.pendingError = null;
      this.immediate = true;
      this.report({
        code: "token_expired",
        message: "the token expired; fetching a fresh one",
        closeCode: code,
        terminal: false,
      });
      this.transition("drop");
      return;
    }
    if (this.isTerminal(code)) {
      const frame = this.pendingError;
      this.pendingError = null;
      this.transition("terminal");
      this.socket.close();
      this.report({
        code: frame?.code ?? `close_${code}`,
        message: frame?.message ?? (reason || `the server closed the connection with code ${code}`),
        closeCode: code,
        terminal: true,
      });
      return;
    }
    this.flushPendingError();
    this.transition("drop");
  }

  /** One event in seq order; false when it showed a hole and the connection is being replaced. */
  private receive(event: MeshEvent<C, T>): boolean {
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

  /** Replaces the connection, resuming from `lastSeq`, instead of showing events out of order. */
  private resync(reason: string): void {
    if (this.current === "closed") return;
    this.socket.reconnect(1000, reason.slice(0, 120));
  }

  private flushPendingError(): void {
    if (!this.pendingError) return;
    const { code, message, retryAfterSeconds } = this.pendingError;
    this.pendingError = null;
    // An overloaded or full server says how long to stay away; backoff never waits less.
    if (retryAfterSeconds !== undefined) this.serverDelayMs = retryAfterSeconds * 1000;
    this.report({ code, message, terminal: false });
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
