import { backoffDelay } from "../protocol/backoff.ts";
import { closeCodeForError, isTerminalCloseCode } from "../protocol/close-codes.ts";
import { subscribeFrameText, type UnsubscribedFrame, unsubscribeFrameText } from "../protocol/frames.ts";
import type { PresenceChannel, PresenceLink } from "./presence.ts";
import { isPresenceFrame } from "./presence-set.ts";
import { type FilledEvent, PublishLedger, type SocketPublishResult } from "./publish-ledger.ts";
import { type RoutedFrame, SocketDriver } from "./socket-driver.ts";
import { SubscribeLedger } from "./subscribe-ledger.ts";
import type { ConnectionSettings, TokenSource, TopicChannel, Transport } from "./transport.ts";

interface Entry {
  channel: TopicChannel;
  /** Its stored position is read: it may be subscribed. */
  ready: boolean;
  /** Resubscribes since the topic last caught up; drives its own backoff. */
  attempt: number;
  /** A resubscribe waiting out its backoff; the topic's frames are ignored meanwhile. */
  retry: ReturnType<typeof setTimeout> | null;
}

/**
 * One socket on `/v1/ws` that follows many topics of one client and one credential. Each topic
 * is a `subscribe` frame carrying its own cursor; every (re)connection sends one per topic, and one
 * topic's trouble (a hole, a refusal) is repaired by subscribing that topic again, without dropping
 * the socket or the other topics. It also carries the client's publishes (`publish-ledger.ts`). The
 * socket closes when its last topic goes and its last publish is answered.
 */
export class MeshConnection {
  private readonly entries = new Map<string, Entry>();
  /** Topics whose presence this socket follows (presence.ts), beside or without their events. */
  private readonly presences = new Map<string, PresenceChannel>();
  private readonly ledger = new SubscribeLedger();
  private readonly publishes = new PublishLedger();
  private readonly driver: SocketDriver;
  private idle = false;

  constructor(
    private readonly settings: ConnectionSettings,
    token: TokenSource | undefined,
    private readonly onIdle: (connection: MeshConnection) => void,
  ) {
    this.driver = new SocketDriver({
      settings,
      token,
      path: "ws",
      query: () => {
        const query: Record<string, string> = { batch: "true" };
        // The Worker starts looking for a hub at `key`: a topic's small audience ends up together.
        const first = this.entries.keys().next();
        if (!first.done) query.key = first.value;
        return query;
      },
      events: {
        open: () => this.onOpen(),
        frame: (frame) => this.onFrame(frame),
        drop: () => {
          for (const entry of this.entries.values()) entry.channel.dropped();
          for (const presence of this.presences.values()) presence.dropped();
        },
        terminal: (error) => {
          for (const entry of [...this.entries.values()]) entry.channel.fail(error);
          this.publishes.failAll(error);
          for (const presence of [...this.presences.values()]) presence.fail(error);
        },
        report: (error) => {
          for (const entry of this.entries.values()) entry.channel.report(error);
        },
      },
    });
  }

  /** A socket follows a topic once: a second subscription of it needs another connection. */
  carries(topic: string): boolean {
    return this.entries.has(topic);
  }

  /** A socket follows a topic's presence once. */
  carriesPresence(topic: string): boolean {
    return this.presences.has(topic);
  }

  addPresence(channel: PresenceChannel): PresenceLink {
    this.presences.set(channel.topic, channel);
    // On an open socket it follows at once, once its owner holds the link this returns.
    queueMicrotask(() => {
      if (this.driver.isOpen && this.presences.get(channel.topic) === channel) channel.opened();
    });
    return {
      send: (text) => this.driver.send(text),
      close: () => {
        if (this.presences.get(channel.topic) !== channel) return;
        this.presences.delete(channel.topic);
        this.closeIfIdle();
      },
    };
  }

  add(channel: TopicChannel): Transport {
    const entry: Entry = { channel, ready: false, attempt: 0, retry: null };
    this.entries.set(channel.topic, entry);
    void channel.ready.then(() => {
      entry.ready = true;
      this.subscribe(entry);
    });
    return {
      resync: () => this.resubscribe(entry, 0),
      reconnect: () => this.driver.reconnect(),
      settled: () => {
        entry.attempt = 0;
        this.driver.settled();
      },
      close: () => this.remove(entry),
    };
  }

  /** Publishes one filled event on this connection; settles with the server's answer for it. */
  publish(topic: string, event: FilledEvent): Promise<SocketPublishResult> {
    return this.publishes.add(topic, event, (text) => this.sendNow(text));
  }

  /** A connection that carries no topic, presence or publish any more is closed and let go. */
  private closeIfIdle(): boolean {
    if (this.idle || this.entries.size > 0 || this.presences.size > 0 || this.publishes.size > 0) return false;
    this.idle = true;
    this.driver.close();
    this.onIdle(this);
    return true;
  }

  /** The client closed (its subscriptions first): publishes still unanswered are refused. */
  close(): void {
    this.publishes.failAll({ code: "network_error", message: "the client was closed before the answer came" });
    this.closeIfIdle();
  }

  private sendNow(text: string): boolean {
    if (!this.driver.isOpen) return false;
    this.driver.send(text);
    return true;
  }

  private onOpen(): void {
    this.ledger.reset();
    for (const entry of this.entries.values()) this.subscribe(entry);
    // Sent again with the same events: the server's dedup answers a stored one with its seq.
    this.publishes.resend((text) => this.sendNow(text));
    for (const presence of this.presences.values()) presence.opened();
  }

  /** Sends the topic's subscribe with its cursor, once it is ready, not waiting, and the socket is open. */
  private subscribe(entry: Entry): void {
    const { channel } = entry;
    if (this.entries.get(channel.topic) !== entry || !entry.ready || entry.retry !== null || !this.driver.isOpen) {
      return;
    }
    const { after, epoch, rewind } = channel.position();
    const types = channel.types && channel.types.length > 0 ? [...channel.types] : undefined;
    // A rewind goes only until the server has resolved it; the cursor it resolved to resumes.
    const start = rewind ?? { after, epoch };
    const filter = channel.filter && channel.filter.length > 0 ? [...channel.filter] : undefined;
    this.driver.send(subscribeFrameText({ topic: channel.topic, ...start, types, filter }));
    this.ledger.sent(channel.topic);
  }

  /** Subscribes the topic again from its cursor after a backoff wait (at least `minDelayMs`). */
  private resubscribe(entry: Entry, minDelayMs: number): void {
    if (entry.retry !== null) clearTimeout(entry.retry);
    entry.channel.dropped();
    entry.attempt += 1;
    const delay = Math.max(backoffDelay(entry.attempt, this.settings.backoff), minDelayMs);
    entry.retry = setTimeout(() => {
      entry.retry = null;
      this.subscribe(entry);
    }, delay);
  }

  private remove(entry: Entry): void {
    const { topic } = entry.channel;
    if (this.entries.get(topic) !== entry) return;
    if (entry.retry !== null) clearTimeout(entry.retry);
    this.entries.delete(topic);
    if (this.closeIfIdle()) return;
    if (this.ledger.followed(topic)) this.driver.send(unsubscribeFrameText(topic));
  }

  private onFrame(frame: RoutedFrame): void {
    if (isPresenceFrame(frame)) {
      // The counts answer a follow: a presence-only socket is healthy, its backoff starts over.
      if (frame.type === "occupancy") this.driver.settled();
      this.presences.get(frame.topic)?.receive(frame);
      return;
    }
    const entry = this.entries.get(frame.topic);
    switch (frame.type) {
      case "subscribed":
        // Counted even without an entry: the topic may be subscribed again on this socket.
        if (this.ledger.subscribed(frame.topic) && entry && entry.retry === null) {
          if (frame.epoch !== undefined) entry.channel.started(frame.after, frame.epoch);
          entry.channel.opened();
        }
        return;
      case "unsubscribed":
        // Without a code it answers the client's own unsubscribe: nothing to do.
        if (frame.code !== undefined) this.onRefusal(frame, frame.code);
        return;
      case "published":
        if (this.publishes.answer(frame)) this.closeIfIdle();
        return;
      default:
        if (entry && entry.retry === null && this.ledger.current(frame.topic)) entry.channel.receive(frame);
    }
  }

  /** The server refused or ended one topic: for good, or to be retried after the delay it names. */
  private onRefusal(frame: UnsubscribedFrame, code: string): void {
    const entry = this.entries.get(frame.topic);
    if (!this.ledger.refused(frame.topic) || !entry || entry.retry !== null) return;
    const message = frame.message ?? `the server refused topic ${frame.topic}`;
    if (isTerminalCloseCode(closeCodeForError(code))) {
      this.ledger.forget(frame.topic);
      entry.channel.fail({ code, message, terminal: true });
      return;
    }
    entry.channel.report({ code, message, terminal: false });
    this.resubscribe(entry, (frame.retryAfterSeconds ?? 0) * 1000);
  }
}
