import type { ErrorCode } from "../protocol/error-codes.ts";
import type { CaughtUpFrame, UnsubscribedFrame } from "../protocol/frames.ts";
import { closeWithRefusal } from "../runtime/socket-refusal.ts";
import type { Feed, HubFeeds } from "./hub-feeds.ts";
import type { HubSender } from "./hub-sender.ts";
import type { HubSessions, Session, Sub } from "./hub-sessions.ts";
import { planResume } from "./resume-plan.ts";
import { rowFilter } from "./row-filter.ts";

/** Why a subscription ends early. */
type Refusal = { code: ErrorCode; message: string; retryAfterSeconds?: number };

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** How long a client waits before subscribing again when the topic could not be reached. */
const UNREACHABLE_RETRY_SECONDS = 1;

/**
 * Brings a socket's replaying subscriptions up to their topics' heads, then switches them to live.
 * One loop per socket takes its replaying topics in turn, a page each, under the socket's one flow
 * allowance; it yields between rounds so pushes interleave.
 *
 * The seam is exact because the hub is single threaded: a subscription whose cursor is inside the
 * hub's window of the topic is sent the window's rows after it and switched to live in one
 * synchronous step, so a pushed row is either in that read or in a broadcast after it. A cursor
 * outside the window is served from the topic's log a page at a time until the window (which
 * pushes keep extending meanwhile) covers it. A cursor ahead of the hub's head (the client came
 * from a hub further along) goes live at once; broadcasts skip rows at or below it.
 */
export class HubReplay {
  constructor(
    private readonly sessions: HubSessions,
    private readonly feeds: HubFeeds,
    private readonly sender: HubSender,
  ) {}

  /** Restarts a stopped replay once half the socket's allowance is free. */
  resumeIfDrained(session: Session): void {
    if (session.flow.pumping || !this.sender.drained(session) || !hasReplaying(session)) return;
    void this.pump(session);
  }

  async pump(session: Session): Promise<void> {
    const { flow } = session;
    if (flow.pumping) return;
    flow.pumping = true;
    try {
      for (;;) {
        if (session.ws.readyState !== WebSocket.OPEN) return;
        const replaying = [...session.subs.values()].filter((sub) => sub.mode === "replaying");
        if (replaying.length === 0) {
          flow.stoppedAt = null;
          return;
        }
        for (const sub of replaying) {
          if (!this.sender.open(session)) {
            // The rest waits until acks come in.
            this.sender.stop(session, Date.now());
            return;
          }
          if (this.current(session, sub)) await this.step(session, sub);
        }
        await yieldToEventLoop();
      }
    } catch {
      // The socket closed under the replay; its client resumes from its own cursor.
    } finally {
      flow.pumping = false;
    }
  }

  /** One page for one subscription: from the window, from the topic's log, or the switch to live. */
  private async step(session: Session, sub: Sub): Promise<void> {
    let feed: Feed;
    try {
      feed = await this.feeds.ready(sub.topic);
    } catch (error) {
      return this.unreachable(session, sub, error);
    }
    if (!this.current(session, sub)) return;
    if (!sub.checked && (sub.epoch === null || sub.epoch === feed.epoch) && feed.window.covers(sub.cursor)) {
      sub.checked = true;
      sub.epoch = feed.epoch;
    }
    if (sub.checked && sub.epoch === feed.epoch) {
      if (sub.cursor >= feed.head) return this.goLive(session, sub, feed);
      if (feed.window.covers(sub.cursor)) return this.fromWindow(session, sub, feed);
    }
    return this.fromLog(session, sub, feed);
  }

  private fromWindow(session: Session, sub: Sub, feed: Feed): void {
    const rows = feed.window.after(sub.cursor, Number.MAX_SAFE_INTEGER, sub.types ?? undefined, rowFilter(sub.filter));
    const sent = this.sender.rows(session, JSON.stringify(sub.topic), rows);
    if (sent === rows.length) {
      this.goLive(session, sub, feed);
      return;
    }
    sub.cursor = sent > 0 ? rows[sent - 1].seq : sub.cursor;
    this.pause(session, sub);
  }

  private async fromLog(session: Session, sub: Sub, feed: Feed): Promise<void> {
    // A cursor of another epoch means nothing in this log's numbering: read from its start.
    const readAfter = sub.epoch !== null && sub.epoch !== feed.epoch ? 0 : sub.cursor;
    let page: Awaited<ReturnType<HubFeeds["pull"]>>;
    try {
      page = await this.feeds.pull(sub.topic, readAfter, sub.types);
    } catch (error) {
      return this.unreachable(session, sub, error);
    }
    if (!this.current(session, sub)) return;
    if (!page.ok) {
      const message = `after=${sub.cursor} is beyond the head of the topic (${page.head})`;
      return this.end(session, sub.topic, { code: "cursor_ahead", message });
    }
    const plan = planResume(sub.topic, page, sub.cursor, sub.epoch ?? undefined);
    if (!plan.ok) return this.end(session, sub.topic, { code: "cursor_ahead", message: plan.message });
    sub.checked = true;
    sub.epoch = page.epoch;
    if (plan.gap) {
      this.sender.frame(session, plan.gap);
      sub.cursor = plan.cursor;
      // The log was reset after the page was asked for: read again from the new log's start.
      if (plan.gap.reason === "epoch" && readAfter !== 0) return;
    }
    // Filters are evaluated here, not by the topic: the topic's one thread serves every hub, and an
    // unfiltered page is shared by every socket resuming there. `next` still covers skipped rows.
    const filter = rowFilter(sub.filter);
    const rows = page.rows.filter((row) => row.seq > sub.cursor && (filter === null || filter(row)));
    const sent = this.sender.rows(session, JSON.stringify(sub.topic), rows);
    if (sent < rows.length) {
      sub.cursor = sent > 0 ? rows[sent - 1].seq : sub.cursor;
      return this.pause(session, sub);
    }
    sub.cursor = Math.max(sub.cursor, page.next);
  }

  /** Same synchronous step as the last read: every later row reaches the socket by broadcast. */
  private goLive(session: Session, sub: Sub, feed: Feed): void {
    sub.mode = "live";
    sub.cursor = Math.max(sub.cursor, feed.head);
    sub.epoch = feed.epoch;
    sub.checked = true;
    this.sessions.save(session, sub);
    const caughtUp: CaughtUpFrame = { type: "caught-up", topic: sub.topic, head: sub.cursor, epoch: feed.epoch };
    this.sender.frame(session, caughtUp);
  }

  /** The socket is out of allowance: its place is kept (durably, should the hub sleep) until acks come. */
  private pause(session: Session, sub: Sub): void {
    this.sessions.save(session, sub);
    this.sender.stop(session, Date.now());
  }

  private unreachable(session: Session, sub: Sub, error: unknown): void {
    if (!this.current(session, sub)) return;
    this.end(session, sub.topic, {
      code: "overloaded",
      message: `the topic could not be reached (${String(error)}): subscribe again`,
      retryAfterSeconds: UNREACHABLE_RETRY_SECONDS,
    });
  }

  /**
   * Ends one subscription with a refusal; the socket and its other topics go on. A one-topic
   * socket has no other topic: it is closed with the refusal, as its connect would have been.
   */
  end(session: Session, topic: string, refusal: Refusal): void {
    if (session.pinned !== null) {
      closeWithRefusal(session.ws, refusal.code, refusal.message, refusal.retryAfterSeconds);
      this.sessions.close(session);
      return;
    }
    this.sessions.unsubscribe(session, topic);
    const frame: UnsubscribedFrame = { type: "unsubscribed", topic, ...refusal };
    this.sender.frame(session, frame);
  }

  /** The subscription is still the socket's current one for its topic (not replaced or ended). */
  private current(session: Session, sub: Sub): boolean {
    return session.subs.get(sub.topic) === sub && sub.mode === "replaying";
  }
}

function hasReplaying(session: Session): boolean {
  for (const sub of session.subs.values()) if (sub.mode === "replaying") return true;
  return false;
}
