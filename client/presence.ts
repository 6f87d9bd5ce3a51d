import {
  type PresenceMode,
  type PresenceRefusedFrame,
  presenceEnterFrameText,
  presenceFollowFrameText,
  presenceLeaveFrameText,
  presenceUnfollowFrameText,
  presenceUpdateFrameText,
} from "../protocol/presence.ts";
import { type PresenceServerFrame, PresenceSet, type PresenceView } from "./presence-set.ts";
import type { SubscriptionError, TokenSource } from "./transport.ts";

export type { PresenceView } from "./presence-set.ts";

/** How long after an `overloaded` refusal the client enters again. */
const RETRY_MS = 1_000;

export interface PresenceOptions {
  /** `members` (default): the member list and every change; `count`: occupancy only, for large rooms. */
  mode?: PresenceMode;
  /** Enter the topic's presence at once, as the token's subject, with this data (JSON, at most 1 KiB). */
  enter?: { data?: unknown };
  /** Called on every change of the view: members, counts, synced. */
  onChange?: (view: PresenceView) => void;
  /** A refusal (`no_subject`, `forbidden`, `not_entered`) or a terminal close of the connection. */
  onError?: (error: SubscriptionError) => void;
  /** This presence's credential, instead of the client's. */
  token?: TokenSource;
}

/** One topic's presence as a transport sees it. */
export interface PresenceChannel {
  readonly topic: string;
  /** A connection (re)opened: follow again and, if entered, enter again with the same session. */
  opened(): void;
  receive(frame: PresenceServerFrame | PresenceRefusedFrame): void;
  dropped(): void;
  fail(error: SubscriptionError): void;
}

/** What a presence asks of its connection. */
export interface PresenceLink {
  send(text: string): void;
  close(): void;
}

/**
 * A topic's presence on the client's shared connection: follows who is here and, once entered,
 * is one connection of the token's subject. Its session id stays the same across reconnects, so
 * a reconnect inside the server's linger is no leave + join for the others.
 */
export class Presence {
  readonly topic: string;
  private readonly set = new PresenceSet();
  private readonly session = sessionId();
  private readonly mode: PresenceMode;
  /** The data the connection entered with, while entered. */
  private entered: { data: unknown } | null;
  private closed = false;
  private readonly link: PresenceLink;

  constructor(
    topic: string,
    private readonly options: PresenceOptions,
    attach: (channel: PresenceChannel) => PresenceLink,
  ) {
    this.topic = topic;
    this.mode = options.mode ?? "members";
    this.entered = options.enter ? { data: options.enter.data ?? null } : null;
    this.link = attach(this.channel());
  }

  /** Members, counts and whether the list is whole. */
  get view(): PresenceView {
    return this.set.view();
  }

  /** Enters (or updates the data of this connection, when entered already). */
  enter(data: unknown = null): void {
    if (this.closed) return;
    if (this.entered !== null && JSON.stringify(this.entered.data) === JSON.stringify(data)) return;
    const first = this.entered === null;
    this.entered = { data };
    this.link.send(
      first
        ? presenceEnterFrameText({ topic: this.topic, session: this.session, data })
        : presenceUpdateFrameText(this.topic, data),
    );
  }

  /** Replaces this member's data; enters first if not entered. */
  update(data: unknown): void {
    this.enter(data);
  }

  /** This connection leaves the topic's presence now; following goes on. */
  leave(): void {
    if (this.closed || this.entered === null) return;
    this.entered = null;
    this.link.send(presenceLeaveFrameText(this.topic));
  }

  /** Leaves, stops following, and lets go of the connection. */
  close(): void {
    if (this.closed) return;
    this.leave();
    this.link.send(presenceUnfollowFrameText(this.topic));
    this.closed = true;
    this.link.close();
  }

  private reenter(): void {
    if (this.closed || this.entered === null) return;
    this.link.send(presenceEnterFrameText({ topic: this.topic, session: this.session, data: this.entered.data }));
  }

  private channel(): PresenceChannel {
    return {
      topic: this.topic,
      opened: () => {
        if (this.closed) return;
        this.link.send(presenceFollowFrameText(this.topic, this.mode));
        this.reenter();
      },
      receive: (frame) => {
        if (this.closed) return;
        if (frame.type === "presence.refused") {
          if (frame.code === "no_subject" || frame.code === "forbidden") this.entered = null;
          // The topic's presence could not be reached: enter again after a while, as a reconnect would.
          if (frame.code === "overloaded") setTimeout(() => this.reenter(), RETRY_MS);
          this.options.onError?.({ code: frame.code, message: frame.message, terminal: false });
          return;
        }
        if (this.set.apply(frame)) this.options.onChange?.(this.set.view());
      },
      dropped: () => {
        this.set.dropped();
        if (!this.closed) this.options.onChange?.(this.set.view());
      },
      fail: (error) => {
        if (this.closed) return;
        this.closed = true;
        this.options.onError?.(error);
      },
    };
  }
}

/** 16 random bytes as hex: the session a reconnect enters with again. */
function sessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
