import type { Operation } from "../protocol/auth.ts";
import type { EventFilter } from "../protocol/event-filter.ts";
import type { SocketCredential } from "../protocol/socket-credential.ts";

/** What a socket may follow: the topic patterns and operations of its token or key. */
export interface SocketScope {
  topics: string[];
  ops: readonly Operation[];
}

/** A socket as the hub keeps it: the attachment holds only its id, everything else is here. */
export interface SocketRow {
  sid: string;
  batch: boolean;
  scope: SocketScope;
  /** The subscriber token the socket runs on; none for a key. */
  token: SocketCredential | null;
  /** The one topic of a socket opened on the one-topic URL: it takes no subscribe frames. */
  pinned: string | null;
}

/** One topic a socket follows. `live` subscriptions' cursor is the feed's head when the hub wakes. */
export interface SubRow {
  sid: string;
  topic: string;
  mode: "replaying" | "live";
  cursor: number;
  /** The epoch `cursor` belongs to, when known. */
  epoch: string | null;
  types: string[] | null;
  /** CloudEvents Subscriptions API filters, all of which a sent event matches. */
  filter: EventFilter[] | null;
  /** The cursor was checked against the topic's log; until then `epoch` is the client's word. */
  checked: boolean;
}

/** Where the hub stands in one topic's log: pushes continue from `head`. */
export type FeedRow = {
  topic: string;
  epoch: string;
  head: number;
};

/**
 * The hub's durable state in its SQLite: what it needs after hibernation or a restart to go on
 * serving the sockets it still holds. Written per socket open and close, per subscribe,
 * unsubscribe and change of mode, and once per applied push (the feed's head); never per event
 * per socket.
 */
export class HubStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS hub_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS feeds (topic TEXT PRIMARY KEY, epoch TEXT NOT NULL, head INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sockets (sid TEXT PRIMARY KEY, batch INTEGER NOT NULL, scope TEXT NOT NULL,
        token TEXT, expires_at INTEGER, pinned TEXT);
      CREATE INDEX IF NOT EXISTS sockets_expiry ON sockets (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE IF NOT EXISTS subs (sid TEXT NOT NULL, topic TEXT NOT NULL, mode TEXT NOT NULL,
        cursor INTEGER NOT NULL, epoch TEXT, types TEXT, checked INTEGER NOT NULL, PRIMARY KEY (sid, topic));`);
    // Hubs that stored subscriptions before filters existed get the column, empty (no filter).
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('subs')").toArray();
    if (!columns.some((column) => column.name === "filter")) sql.exec("ALTER TABLE subs ADD COLUMN filter TEXT");
  }

  getMeta(key: string): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM hub_meta WHERE key = ?", key).toArray()[0]?.value ?? null
    );
  }

  setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO hub_meta (key, value) VALUES (?, ?)", key, value);
  }

  feed(topic: string): FeedRow | null {
    return this.sql.exec<FeedRow>("SELECT topic, epoch, head FROM feeds WHERE topic = ?", topic).toArray()[0] ?? null;
  }

  putFeed(feed: FeedRow): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO feeds (topic, epoch, head) VALUES (?, ?, ?)",
      feed.topic,
      feed.epoch,
      feed.head,
    );
  }

  deleteFeed(topic: string): void {
    this.sql.exec("DELETE FROM feeds WHERE topic = ?", topic);
  }

  insertSocket(row: SocketRow): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO sockets (sid, batch, scope, token, expires_at, pinned) VALUES (?, ?, ?, ?, ?, ?)",
      row.sid,
      row.batch ? 1 : 0,
      JSON.stringify(row.scope),
      row.token ? JSON.stringify(row.token) : null,
      row.token?.expiresAt ?? null,
      row.pinned,
    );
  }

  /** Replaces a socket's token after an in-band refresh: its scope narrows to the new token's. */
  setToken(sid: string, token: SocketCredential): void {
    this.sql.exec(
      "UPDATE sockets SET token = ?, scope = ?, expires_at = ? WHERE sid = ?",
      JSON.stringify(token),
      JSON.stringify({ topics: token.topics, ops: token.ops }),
      token.expiresAt,
      sid,
    );
  }

  sockets(): SocketRow[] {
    return this.sql
      .exec<{ sid: string; batch: number; scope: string; token: string | null; pinned: string | null }>(
        "SELECT sid, batch, scope, token, pinned FROM sockets",
      )
      .toArray()
      .map((row) => ({
        sid: row.sid,
        batch: row.batch === 1,
        scope: JSON.parse(row.scope) as SocketScope,
        token: row.token === null ? null : (JSON.parse(row.token) as SocketCredential),
        pinned: row.pinned,
      }));
  }

  deleteSocket(sid: string): void {
    this.sql.exec("DELETE FROM subs WHERE sid = ?", sid);
    this.sql.exec("DELETE FROM sockets WHERE sid = ?", sid);
  }

  /** Sockets whose token expired by `now`. */
  expiredSockets(now: number): string[] {
    return this.sql
      .exec<{ sid: string }>("SELECT sid FROM sockets WHERE expires_at IS NOT NULL AND expires_at <= ?", now)
      .toArray()
      .map((row) => row.sid);
  }

  /** When the next socket's token expires; null when no socket runs on a token. */
  nextExpiry(): number | null {
    return this.sql
      .exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM sockets WHERE expires_at IS NOT NULL")
      .one().at;
  }

  putSub(sub: SubRow): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO subs (sid, topic, mode, cursor, epoch, types, filter, checked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      sub.sid,
      sub.topic,
      sub.mode,
      sub.cursor,
      sub.epoch,
      sub.types ? JSON.stringify(sub.types) : null,
      sub.filter ? JSON.stringify(sub.filter) : null,
      sub.checked ? 1 : 0,
    );
  }

  deleteSub(sid: string, topic: string): void {
    this.sql.exec("DELETE FROM subs WHERE sid = ? AND topic = ?", sid, topic);
  }

  subs(): SubRow[] {
    return this.sql
      .exec<{
        sid: string;
        topic: string;
        mode: string;
        cursor: number;
        epoch: string | null;
        types: string | null;
        filter: string | null;
        checked: number;
      }>("SELECT sid, topic, mode, cursor, epoch, types, filter, checked FROM subs")
      .toArray()
      .map((row) => ({
        sid: row.sid,
        topic: row.topic,
        mode: row.mode === "live" ? "live" : "replaying",
        cursor: row.cursor,
        epoch: row.epoch,
        types: row.types === null ? null : (JSON.parse(row.types) as string[]),
        filter: row.filter === null ? null : (JSON.parse(row.filter) as EventFilter[]),
        checked: row.checked === 1,
      }));
  }
}
