import type { HubAttach, HubAttachResult, HubPush, HubPushResult, HubReadPage } from "./hub-rpc.ts";
import type { HubStore } from "./hub-store.ts";
import type { StoredRow } from "./log-store.ts";
import { RowWindow } from "./row-window.ts";

/** A page of a topic's log for a hub, or the refusal of a cursor the log never handed out. */
export type ReadPageResult = ({ ok: true } & HubReadPage) | { ok: false; code: "cursor_ahead"; head: number };

/** What a hub asks of a topic's object. */
export interface TopicSide {
  attachHub(topic: string, attach: HubAttach): Promise<HubAttachResult>;
  readPage(topic: string, after: number, limit: number, types?: string[]): Promise<ReadPageResult>;
}

/** Where the hub stands in one topic's log, and the recent rows it keeps of it. */
export interface Feed {
  topic: string;
  epoch: string;
  head: number;
  window: RowWindow;
}

/** A push applied: the rows that are new to the hub, and where they start past a trimmed stretch. */
export interface Applied {
  rows: StoredRow[];
  /** Set when the rows start past the hub's head + 1: events in between were trimmed. */
  oldest?: number;
}

/** How long after a push the hub writes its new head in the topic (see `saveHead`). */
export const HEAD_SAVE_MS = 1_000;

export interface FeedLimits {
  windowEvents: number;
  windowChars: number;
  pageSize: number;
}

/**
 * The topics a hub follows. A topic is attached once per hub instance when its first socket
 * follows it (or after a restart, with the position the hub kept), and from then on pushes each
 * committed append. Pushes are applied only when they continue what the hub holds (`prev`), so the
 * hub's head per topic always has every row before it. Older positions are read from the topic in
 * pages, and concurrent identical reads share one call, so sockets resuming together after a
 * restart cost the topic one read, not one each.
 */
export class HubFeeds {
  private readonly feeds = new Map<string, Feed>();
  private readonly attaching = new Map<string, Promise<Feed>>();
  private readonly reading = new Map<string, Promise<ReadPageResult>>();
  /** Feeds whose head moved since it was last written, and the timer that writes them. */
  private readonly unsaved = new Set<Feed>();
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  /** Pages read from topics since the hub started. */
  pulls = 0;

  constructor(
    private readonly store: HubStore,
    private readonly topics: (topic: string) => TopicSide,
    private readonly hubName: () => string,
    private readonly limits: FeedLimits,
    /** The topic's log was reset (new epoch): its subscriptions start over with an epoch gap. */
    private readonly onReset: (topic: string) => void,
  ) {}

  get(topic: string): Feed | undefined {
    return this.feeds.get(topic);
  }

  get count(): number {
    return this.feeds.size;
  }

  /** The feed of a topic, attached to the topic's object (once per instance, concurrent callers share it). */
  ready(topic: string): Promise<Feed> {
    const feed = this.feeds.get(topic);
    if (feed) return Promise.resolve(feed);
    let pending = this.attaching.get(topic);
    if (!pending) {
      pending = this.attach(topic).finally(() => this.attaching.delete(topic));
      this.attaching.set(topic, pending);
    }
    return pending;
  }

  private async attach(topic: string): Promise<Feed> {
    const known = this.store.feed(topic);
    const at = await this.topics(topic).attachHub(topic, {
      hub: this.hubName(),
      known: known ? { epoch: known.epoch, head: known.head } : null,
    });
    // Pushes that came while the attach was on its way may have made a feed already.
    const current = this.feeds.get(topic);
    if (current && current.epoch === at.epoch) return current;
    const head = known && known.epoch === at.epoch ? known.head : at.head;
    const feed = { topic, epoch: at.epoch, head, window: this.newWindow(head) };
    this.feeds.set(topic, feed);
    this.store.putFeed({ topic, epoch: feed.epoch, head });
    if (known && known.epoch !== at.epoch) this.onReset(topic);
    return feed;
  }

  /**
   * Applies a push. `subscribers` is how many sockets of the hub follow the topic: none, and the
   * topic is told to stop pushing. Answers what to deliver along with the topic's answer; the new
   * head is kept in memory until `saveHead`.
   */
  async apply(push: HubPush, subscribers: () => number): Promise<{ result: HubPushResult; applied: Applied | null }> {
    const pending = this.attaching.get(push.topic);
    if (pending) await pending.catch(() => undefined);
    let feed = this.feeds.get(push.topic);
    if (subscribers() === 0) {
      this.forget(push.topic);
      return { result: { ok: false, code: "not_subscribed" }, applied: null };
    }
    // Sockets follow the topic but the hub restarted since: it goes on from the head it kept.
    if (!feed) feed = this.restore(push.topic);
    if (!feed) return { result: { ok: false, code: "not_subscribed" }, applied: null };
    if (push.epoch !== feed.epoch) {
      // A new log: nothing of it is held yet, so the topic sends it from its start.
      feed.epoch = push.epoch;
      feed.head = 0;
      feed.window.clear(0);
      this.store.putFeed({ topic: feed.topic, epoch: feed.epoch, head: 0 });
      this.onReset(feed.topic);
    }
    if (push.prev > feed.head) return { result: { ok: false, code: "behind", head: feed.head }, applied: null };
    const rows = push.rows.filter((row) => row.seq > feed.head);
    const count = subscribers();
    if (rows.length === 0) return { result: { ok: true, head: feed.head, subscribers: count }, applied: null };
    const trimmed = rows[0].seq > feed.head + 1;
    feed.window.append(rows);
    feed.head = rows[rows.length - 1].seq;
    return {
      result: { ok: true, head: feed.head, subscribers: count },
      applied: trimmed ? { rows, oldest: rows[0].seq } : { rows },
    };
  }

  /**
   * Writes where the hub stands in the topic, for a wake after hibernation or a restart: within
   * `HEAD_SAVE_MS`, once for all the pushes in between, not in the turn that sent their frames. A
   * write in that turn was committed before the runtime went on to write the frames to the sockets,
   * which added its commit to every delivery. The delay costs nothing: an object does not hibernate
   * while a timer is pending, and a crash closes every socket here, after which the older head makes
   * the next push answer `behind` and the topic resends.
   */
  saveHead(feed: Feed): void {
    this.unsaved.add(feed);
    this.saveTimer ??= setTimeout(() => this.saveHeads(), HEAD_SAVE_MS);
  }

  private saveHeads(): void {
    this.saveTimer = null;
    for (const feed of this.unsaved) {
      // A feed forgotten or replaced since keeps what was written for it.
      if (this.feeds.get(feed.topic) === feed)
        this.store.putFeed({ topic: feed.topic, epoch: feed.epoch, head: feed.head });
    }
    this.unsaved.clear();
  }

  /**
   * A page of the topic's log after `after`. Identical reads in flight share one call; an
   * unfiltered page that reaches the window's oldest row extends the window backwards.
   */
  pull(topic: string, after: number, types: string[] | null): Promise<ReadPageResult> {
    const key = `${topic}\u0000${after}\u0000${types?.join(",") ?? ""}`;
    let pending = this.reading.get(key);
    if (!pending) {
      this.pulls += 1;
      pending = this.topics(topic)
        .readPage(topic, after, this.limits.pageSize, types ?? undefined)
        .then((page) => {
          const feed = this.feeds.get(topic);
          if (page.ok && !types && feed && feed.epoch === page.epoch) feed.window.prepend(page.rows);
          return page;
        })
        .finally(() => this.reading.delete(key));
      this.reading.set(key, pending);
    }
    return pending;
  }

  /** No socket follows the topic any more: the hub forgets where it stood. */
  forget(topic: string): void {
    this.feeds.delete(topic);
    this.store.deleteFeed(topic);
  }

  private restore(topic: string): Feed | undefined {
    const row = this.store.feed(topic);
    if (!row) return undefined;
    const feed = { ...row, window: this.newWindow(row.head) };
    this.feeds.set(topic, feed);
    return feed;
  }

  private newWindow(head: number): RowWindow {
    return new RowWindow(head, this.limits.windowEvents, this.limits.windowChars);
  }
}
