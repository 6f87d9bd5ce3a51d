import PartySocket from "partysocket";
import { backoffDelay } from "../protocol/backoff.ts";
import { CLOSE, isTerminalCloseCode } from "../protocol/close-codes.ts";
import {
  ackFrame,
  authFrame,
  type ErrorFrame,
  HEARTBEAT_PING,
  HEARTBEAT_PONG,
  parseServerFrame,
  type ServerFrame,
} from "../protocol/frames.ts";
import { Heartbeat } from "./heartbeat.ts";
import { refreshDelayMs, tokenExpiresAt } from "./token-refresh.ts";
import type { ConnectionSettings, SubscriptionError, TokenSource } from "./transport.ts";

/** Frames the driver hands on: it answers `error`, `token-refreshed` and `mark` itself. */
export type RoutedFrame = Exclude<ServerFrame, { type: "error" | "token-refreshed" | "mark" }>;

/** What the driver tells the transport on top of it. */
export interface SocketEvents {
  /** A connection opened. */
  open(): void;
  frame(frame: RoutedFrame): void;
  /** The connection closed or is being replaced; the driver reconnects. */
  drop(): void;
  /** The server refused for good; the driver has stopped. */
  terminal(error: SubscriptionError): void;
  /** A failure the driver recovers from by itself. */
  report(error: SubscriptionError): void;
}

export interface SocketDriverOptions {
  settings: ConnectionSettings;
  /** The connection's credential (a subscription's own, else the client's). */
  token: TokenSource | undefined;
  /** The path after `v1/`, e.g. `topics/orders/ws` or `ws`. */
  path: string;
  /** The query of the next connection, asked after the backoff wait; the driver adds the token. */
  query: () => Record<string, string> | Promise<Record<string, string>>;
  events: SocketEvents;
}

/**
 * One reconnecting WebSocket to the mesh, whatever it carries: backoff with jitter before every
 * reconnect (at least what the server asked for), a fresh token per connection and in-band refresh
 * before expiry, heartbeat, acks of flow-control marks, and close codes sorted into retry, fetch a
 * fresh token (4440) or stop (terminal).
 */
export class SocketDriver {
  private readonly socket: PartySocket;
  private readonly heartbeat: Heartbeat | null;
  private closed = false;
  private connected = false;
  /** Reconnects since the transport last settled; drives the backoff. */
  private attempt = 0;
  private started = false;
  /** Set by `reconnect()`: the next connection skips the backoff wait. */
  private immediate = false;
  private wait: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | null = null;
  /** An error frame waits for the close that usually follows, so both are reported as one. */
  private pendingError: ErrorFrame | null = null;
  /** The least wait before the next connection, when the server asked for one (`retryAfterSeconds`). */
  private serverDelayMs = 0;
  /** The expiry of the token the open socket runs on, and the timer that refreshes it before then. */
  private tokenExpiry: number | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Set once the server accepted this connection (its first frame other than an error). */
  private refreshArmed = false;

  constructor(private readonly options: SocketDriverOptions) {
    const { settings } = options;
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
      basePath: `${settings.prefix ? `${settings.prefix}/` : ""}v1/${options.path}`,
      query: () => this.nextQuery(),
      WebSocket: settings.WebSocket,
      // partysocket's own delays have no jitter: they are off, `nextQuery` waits instead.
      minReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      connectionTimeout: settings.connectionTimeoutMs,
      // Frames queued while disconnected would be stale (pings, acks, subscribes): never queue.
      maxEnqueuedMessages: 0,
      shouldReconnectOnClose: (event) => !this.isTerminal(event.code),
    });
    this.socket.addEventListener("open", () => this.onOpen());
    this.socket.addEventListener("message", (event) => this.onMessage(event.data));
    this.socket.addEventListener("close", (event) => this.onClose(event.code, event.reason));
  }

  /** True between a connection's open and its close: frames sent now reach the server. */
  get isOpen(): boolean {
    return this.connected;
  }

  send(text: string): void {
    if (this.connected) this.socket.send(text);
  }

  /** The connection proved healthy: the backoff starts over. */
  settled(): void {
    this.attempt = 0;
  }

  /** Replaces the connection after a backoff wait. */
  resync(reason: string): void {
    if (this.closed) return;
    this.socket.reconnect(1000, reason.slice(0, 120));
  }

  /** Replaces the connection at once. */
  reconnect(): void {
    if (this.closed) return;
    this.immediate = true;
    this.endWait();
    this.socket.reconnect(1000, "reconnect");
  }

  /** Stops for good: closes the socket (1000), no more reconnects. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.heartbeat?.stop();
    this.stopRefresh();
    this.endWait();
    this.socket.close(1000, "closed by client");
  }

  /**
   * partysocket calls this before every connection: the backoff wait, then the query. Even the
   * first reconnect waits a random while, so a restarted server is not hit by every client at once.
   */
  private async nextQuery(): Promise<Record<string, string>> {
    if (this.started && !this.immediate) {
      this.attempt += 1;
      const delay = Math.max(backoffDelay(this.attempt, this.options.settings.backoff), this.serverDelayMs);
      this.serverDelayMs = 0;
      await this.sleep(delay);
    }
    this.started = true;
    this.immediate = false;
    const query = { ...(await this.options.query()) };
    const token = await this.freshToken();
    if (token !== undefined) query.token = token;
    this.tokenExpiry = token === undefined ? undefined : tokenExpiresAt(token);
    return query;
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wait = { timer: setTimeout(resolve, ms), resolve };
    });
    this.wait = null;
  }

  private endWait(): void {
    if (!this.wait) return;
    clearTimeout(this.wait.timer);
    this.wait.resolve();
    this.wait = null;
  }

  /** Asks the token source; a failing token function is retried with the same backoff. */
  private async freshToken(): Promise<string | undefined> {
    const source = this.options.token;
    if (typeof source !== "function") return source;
    for (;;) {
      try {
        return await source();
      } catch (err) {
        this.options.events.report({
          code: "token_error",
          message: `the token function failed: ${String(err)}`,
          terminal: false,
        });
        if (this.closed) return undefined;
        this.attempt += 1;
        await this.sleep(backoffDelay(this.attempt, this.options.settings.backoff));
      }
    }
  }

  /** Terminal codes stop the driver, except an expired token when a fresh one can be fetched. */
  private isTerminal(code: number): boolean {
    if (code === CLOSE.tokenExpired && typeof this.options.token === "function") return false;
    return isTerminalCloseCode(code);
  }

  private onOpen(): void {
    if (this.closed) return;
    this.connected = true;
    this.pendingError = null;
    this.refreshArmed = false;
    this.heartbeat?.start();
    this.options.events.open();
  }

  /** With a token function, the open socket's token is replaced before it expires (`auth:<token>`). */
  private scheduleRefresh(): void {
    this.stopRefresh();
    const expiry = this.tokenExpiry;
    if (expiry === undefined || typeof this.options.token !== "function") return;
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
    const source = this.options.token;
    if (typeof source !== "function") return;
    let token: string;
    try {
      token = await source();
    } catch (err) {
      this.options.events.report({
        code: "token_error",
        message: `the token function failed: ${String(err)}`,
        terminal: false,
      });
      return;
    }
    const next = tokenExpiresAt(token);
    if (this.closed || this.tokenExpiry !== expiry || next === undefined || next <= expiry) return;
    this.tokenExpiry = next;
    this.socket.send(authFrame(token));
  }

  private onMessage(data: unknown): void {
    if (this.closed || typeof data !== "string") return;
    this.heartbeat?.seen();
    if (data === HEARTBEAT_PONG) return;
    const frame = parseServerFrame(data);
    if (!frame) {
      this.options.events.report({
        code: "invalid_frame",
        message: `not a frame: ${data.slice(0, 100)}`,
        terminal: false,
      });
      return;
    }
    this.flushPendingError();
    if (!this.refreshArmed && frame.type !== "error") {
      this.refreshArmed = true;
      this.scheduleRefresh();
    }
    switch (frame.type) {
      case "error":
        this.pendingError = frame;
        return;
      case "token-refreshed":
        this.scheduleRefresh();
        return;
      case "mark":
        // Everything before the mark was handed on above: the server may send more (flow control).
        this.socket.send(ackFrame(frame.id));
        return;
      default:
        this.options.events.frame(frame);
    }
  }

  private onClose(code: number, reason: string): void {
    this.connected = false;
    this.heartbeat?.stop();
    this.stopRefresh();
    if (this.closed) return;
    const { events } = this.options;
    if (code === CLOSE.tokenExpired && !this.isTerminal(code)) {
      // Reconnect at once: the query asks the token function for a fresh token.
      this.pendingError = null;
      this.immediate = true;
      events.report({
        code: "token_expired",
        message: "the token expired; fetching a fresh one",
        closeCode: code,
        terminal: false,
      });
      events.drop();
      return;
    }
    if (this.isTerminal(code)) {
      const frame = this.pendingError;
      this.pendingError = null;
      this.closed = true;
      this.socket.close();
      events.terminal({
        code: frame?.code ?? `close_${code}`,
        message: frame?.message ?? (reason || `the server closed the connection with code ${code}`),
        closeCode: code,
        terminal: true,
      });
      return;
    }
    this.flushPendingError();
    events.drop();
  }

  private flushPendingError(): void {
    if (!this.pendingError) return;
    const { code, message, retryAfterSeconds } = this.pendingError;
    this.pendingError = null;
    // An overloaded or full server says how long to stay away; backoff never waits less.
    if (retryAfterSeconds !== undefined) this.serverDelayMs = retryAfterSeconds * 1000;
    this.options.events.report({ code, message, terminal: false });
  }
}
