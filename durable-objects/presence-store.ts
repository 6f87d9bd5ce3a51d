import type { Occupancy } from "../protocol/presence.ts";
import { changeOnEnter, changeOnUpdate, leavesWith, lingerEnded } from "./presence-rules.ts";

/** A change as the presence object sends it to hubs: the member's data as JSON text. */
export interface PresenceDelta {
  type: "presence.join" | "presence.update" | "presence.leave";
  member: string;
  /** The member's data as JSON (join and update). */
  data?: string;
}

/** A change with its place in the topic's presence: changes are numbered 1, 2, 3… (`rev`). */
export type NumberedDelta = PresenceDelta & { rev: number };

/** A hub that follows the topic's presence, and the last change it was sent. */
export interface Follower {
  hub: string;
  members: boolean;
  delivered: number;
}

/** Where a connection is held: a socket (`sid`) on a hub. */
export interface ConnPlace {
  hub: string;
  sid: string;
}

/**
 * One topic's presence in its object's SQLite: members with their data and number of
 * connections, each connection with the hub and socket that hold it and, once that socket is
 * gone, since when. Counts are kept in memory, read once when the object starts.
 */
export class PresenceStore {
  private counts: Occupancy;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS presence_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS members (member TEXT PRIMARY KEY, data TEXT NOT NULL, conns INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS conns (member TEXT NOT NULL, session TEXT NOT NULL, hub TEXT NOT NULL,
        sid TEXT NOT NULL, gone_at INTEGER, PRIMARY KEY (member, session));
      CREATE INDEX IF NOT EXISTS conns_place ON conns (hub, sid);
      CREATE INDEX IF NOT EXISTS conns_gone ON conns (gone_at) WHERE gone_at IS NOT NULL;
      CREATE TABLE IF NOT EXISTS followers (hub TEXT PRIMARY KEY, members INTEGER NOT NULL,
        delivered INTEGER NOT NULL);`);
    this.counts = {
      members: sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM members").one().n,
      connections: sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM conns").one().n,
    };
  }

  get occupancy(): Occupancy {
    return { ...this.counts };
  }

  getMeta(key: string): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM presence_meta WHERE key = ?", key).toArray()[0]?.value ?? null
    );
  }

  setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO presence_meta (key, value) VALUES (?, ?)", key, value);
  }

  /**
   * A connection enters (or comes back: the same member and session revive their connection,
   * wherever it is held now, with no join). `data` null keeps the member's data.
   */
  enter(member: string, session: string, place: ConnPlace, data: string | null): PresenceDelta | null {
    const current = this.member(member);
    const change = changeOnEnter(current, data);
    const known = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM conns WHERE member = ? AND session = ?", member, session)
      .one().n;
    if (known > 0) {
      this.sql.exec(
        "UPDATE conns SET hub = ?, sid = ?, gone_at = NULL WHERE member = ? AND session = ?",
        place.hub,
        place.sid,
        member,
        session,
      );
    } else {
      this.sql.exec(
        "INSERT INTO conns (member, session, hub, sid, gone_at) VALUES (?, ?, ?, ?, NULL)",
        member,
        session,
        place.hub,
        place.sid,
      );
      this.counts.connections += 1;
    }
    if (current === null) {
      this.sql.exec("INSERT INTO members (member, data, conns) VALUES (?, ?, 1)", member, change?.data ?? "null");
      this.counts.members += 1;
    } else {
      this.sql.exec(
        "UPDATE members SET conns = conns + ?, data = ? WHERE member = ?",
        known > 0 ? 0 : 1,
        change?.data ?? current.data,
        member,
      );
    }
    return change ? { type: change.type, member, data: change.data } : null;
  }

  /** Replaces the member's data, when the connection is the one that socket holds. */
  update(member: string, session: string, place: ConnPlace, data: string): PresenceDelta | null | "not_entered" {
    if (!this.holds(member, session, place)) return "not_entered";
    const current = this.member(member);
    if (current === null || !changeOnUpdate(current, data)) return null;
    this.sql.exec("UPDATE members SET data = ? WHERE member = ?", data, member);
    return { type: "presence.update", member, data };
  }

  /** The connection leaves now, when that socket holds it; its member with its last connection. */
  leave(member: string, session: string, place: ConnPlace): PresenceDelta | null {
    if (!this.holds(member, session, place)) return null;
    return this.remove(member, session);
  }

  /** The sockets closed or vanished: their connections linger from `now` (a reconnect revives them). */
  gone(hub: string, sids: readonly string[], now: number): void {
    for (const sid of sids) {
      this.sql.exec("UPDATE conns SET gone_at = ? WHERE hub = ? AND sid = ? AND gone_at IS NULL", now, hub, sid);
    }
  }

  /** Removes the connections whose linger ended; answers the members that left with them. */
  expire(now: number): PresenceDelta[] {
    const ended = this.sql
      .exec<{ member: string; session: string; gone_at: number }>(
        "SELECT member, session, gone_at FROM conns WHERE gone_at IS NOT NULL ORDER BY gone_at",
      )
      .toArray()
      .filter((row) => lingerEnded(row.gone_at, now));
    const leaves: PresenceDelta[] = [];
    for (const row of ended) {
      const left = this.remove(row.member, row.session);
      if (left) leaves.push(left);
    }
    return leaves;
  }

  /** When the first lingering connection went, if any does. */
  firstGoneAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(gone_at) AS at FROM conns WHERE gone_at IS NOT NULL").one()
      .at;
  }

  /** The sockets that hold live connections, per hub: what the alarm asks each hub about. */
  heldSockets(): Map<string, string[]> {
    const byHub = new Map<string, string[]>();
    for (const row of this.sql
      .exec<{ hub: string; sid: string }>("SELECT DISTINCT hub, sid FROM conns WHERE gone_at IS NULL")
      .toArray()) {
      const sids = byHub.get(row.hub) ?? [];
      sids.push(row.sid);
      byHub.set(row.hub, sids);
    }
    return byHub;
  }

  /** Whether any connection is held (not gone): one row read, not a count, since it is asked per change. */
  get anyLive(): boolean {
    return this.sql.exec("SELECT 1 FROM conns WHERE gone_at IS NULL LIMIT 1").toArray().length > 0;
  }

  /** Members after `cursor` in member order, at most `limit`, and the cursor of the next page. */
  page(cursor: string, limit: number): { members: { member: string; data: string }[]; next: string | null } {
    const rows = this.sql
      .exec<{ member: string; data: string }>(
        "SELECT member, data FROM members WHERE member > ? ORDER BY member LIMIT ?",
        cursor,
        limit + 1,
      )
      .toArray();
    const more = rows.length > limit;
    const members = more ? rows.slice(0, limit) : rows;
    return { members, next: more ? (members.at(-1)?.member ?? null) : null };
  }

  /** The number of the latest change. */
  get rev(): number {
    return Number(this.getMeta("rev") ?? 0);
  }

  /** Numbers `changes` after the latest one. */
  number(changes: readonly PresenceDelta[]): NumberedDelta[] {
    if (changes.length === 0) return [];
    const first = this.rev + 1;
    this.setMeta("rev", String(first + changes.length - 1));
    return changes.map((change, i) => ({ ...change, rev: first + i }));
  }

  /**
   * A hub follows the topic's presence; `members`: it wants every change, not only the counts. A
   * new follower reads the list now, so it needs the changes after the latest one only.
   */
  follow(hub: string, members: boolean): void {
    this.sql.exec(
      `INSERT INTO followers (hub, members, delivered) VALUES (?, ?, ?)
        ON CONFLICT (hub) DO UPDATE SET members = MAX(members, excluded.members)`,
      hub,
      members ? 1 : 0,
      this.rev,
    );
  }

  /** The hub was sent every change up to `rev`. */
  delivered(hub: string, rev: number): void {
    this.sql.exec("UPDATE followers SET delivered = MAX(delivered, ?) WHERE hub = ?", rev, hub);
  }

  unfollow(hub: string): void {
    this.sql.exec("DELETE FROM followers WHERE hub = ?", hub);
  }

  followers(): Follower[] {
    return this.sql
      .exec<{ hub: string; members: number; delivered: number }>("SELECT hub, members, delivered FROM followers")
      .toArray()
      .map((row) => ({ hub: row.hub, members: row.members === 1, delivered: row.delivered }));
  }

  private member(member: string): { data: string } | null {
    return this.sql.exec<{ data: string }>("SELECT data FROM members WHERE member = ?", member).toArray()[0] ?? null;
  }

  private holds(member: string, session: string, place: ConnPlace): boolean {
    return (
      this.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM conns WHERE member = ? AND session = ? AND hub = ? AND sid = ?",
          member,
          session,
          place.hub,
          place.sid,
        )
        .one().n > 0
    );
  }

  private remove(member: string, session: string): PresenceDelta | null {
    const deleted = this.sql
      .exec("DELETE FROM conns WHERE member = ? AND session = ? RETURNING member", member, session)
      .toArray().length;
    if (deleted === 0) return null;
    this.counts.connections -= 1;
    const left = this.sql
      .exec<{ conns: number }>("UPDATE members SET conns = conns - 1 WHERE member = ? RETURNING conns", member)
      .toArray()[0];
    if (left === undefined || !leavesWith(left.conns)) return null;
    this.sql.exec("DELETE FROM members WHERE member = ?", member);
    this.counts.members -= 1;
    return { type: "presence.leave", member };
  }
}
