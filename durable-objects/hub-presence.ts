import { CLOSE } from "../protocol/close-codes.ts";
import type { Occupancy, PresenceClientFrame, PresenceMode, PresenceRefusedFrame } from "../protocol/presence.ts";
import { PRESENCE_PAGE_MAX } from "../protocol/presence.ts";
import type { HubSender } from "./hub-sender.ts";
import type { HubSessions, Session } from "./hub-sessions.ts";
import { scopeAllows } from "./hub-subscribe.ts";
import type { PresencePush, PresencePushResult } from "./presence-fanout.ts";
import { heartbeatMissed } from "./presence-rules.ts";
import type { PresenceDelta } from "./presence-store.ts";
import type { SerialChains } from "./serial-chains.ts";
import type { PresenceMembersPage } from "./topic-presence.ts";

/** How often a member list waiting for acks looks again. */
const ROOM_POLL_MS = 50;

/** The topic's presence object as a hub calls it. */
export interface PresenceSide {
  enter(topic: string, member: string, session: string, place: Place, data: string | null): Promise<void>;
  update(topic: string, member: string, session: string, place: Place, data: string): Promise<{ ok: boolean }>;
  leave(topic: string, member: string, session: string, place: Place): Promise<void>;
  gone(topic: string, hub: string, sids: string[]): Promise<void>;
  follow(topic: string, hub: string, members: boolean): Promise<Occupancy>;
  members(topic: string, cursor: string, limit: number): Promise<PresenceMembersPage>;
}

interface Place {
  hub: string;
  sid: string;
}

/** A socket's connection in a topic's presence: the member (its token's subject) and its session. */
interface Entered {
  member: string;
  session: string;
  at: number;
}

export interface HubPresenceDeps {
  sql: SqlStorage;
  sessions: HubSessions;
  sender: HubSender;
  presence: (topic: string) => PresenceSide;
  hub: () => string;
  /** Topics one socket may be in the presence of (entered or followed): the topic limit per socket. */
  maxTopics: number;
  /** When the runtime last answered the socket's `ping`, if ever. */
  lastBeat: (ws: WebSocket) => number | null;
  /** The hub's chains of socket frames; presence frames keep a chain per socket. */
  turns: SerialChains;
}

/**
 * A hub's side of presence: which of its sockets entered which topic's presence (as whom) and
 * which follow it (members or counts), kept in its SQLite so hibernation changes nothing. It
 * reports connections to each topic's presence object and sends that object's pushes to the
 * sockets that follow, so presence costs a topic one push per hub, as events do.
 */
export class HubPresence {
  private readonly entered = new Map<string, Map<string, Entered>>();
  private readonly follows = new Map<string, Map<string, PresenceMode>>();
  /** Frames held back from a socket while its member list is being sent (`sid topic` → frames). */
  private readonly syncing = new Map<string, string[]>();
  private loaded = false;

  constructor(private readonly deps: HubPresenceDeps) {
    deps.sql.exec(`CREATE TABLE IF NOT EXISTS presence_entered (sid TEXT NOT NULL, topic TEXT NOT NULL,
        member TEXT NOT NULL, session TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (sid, topic));
      CREATE TABLE IF NOT EXISTS presence_follows (sid TEXT NOT NULL, topic TEXT NOT NULL, mode TEXT NOT NULL,
        PRIMARY KEY (sid, topic));`);
  }

  /**
   * A presence frame from a socket, handled after the socket's earlier ones (each waits for the
   * topic's presence object). Entering needs a token with a subject (the member id) and the right
   * to subscribe to the topic; a refusal is a `presence.refused` frame and the socket goes on.
   */
  frame(session: Session, frame: PresenceClientFrame): Promise<void> {
    return this.inTurn(session.sid, async () => {
      try {
        await this.handle(session, frame);
      } catch (error) {
        // The topic's presence object could not be reached: nothing counts as done, the client may retry.
        if (frame.type === "presence.enter") this.forgetEntered(session.sid, frame.topic);
        const message = `the topic's presence could not be reached (${String(error)}): send the frame again`;
        this.refuse(session, frame.topic, "overloaded", message);
      }
    });
  }

  private async handle(session: Session, frame: PresenceClientFrame): Promise<void> {
    this.load();
    const { topic } = frame;
    if (frame.type === "presence.leave") return this.leave(session, topic);
    if (frame.type === "presence.unfollow") return this.unfollow(session.sid, topic);
    if (!scopeAllows(session.scope, topic)) {
      return this.refuse(session, topic, "forbidden", `this credential does not allow subscribe on topic "${topic}"`);
    }
    const known = this.entered.get(session.sid)?.has(topic) || this.follows.get(topic)?.has(session.sid);
    if (!known && this.topicsOf(session.sid) >= this.deps.maxTopics) {
      const message = `this socket is in the presence of ${this.deps.maxTopics} topics, its limit`;
      return this.refuse(session, topic, "too_many_subscriptions", message);
    }
    if (frame.type === "presence.follow") return this.follow(session, topic, frame.mode);
    if (frame.type === "presence.update") {
      if (await this.update(session, topic, JSON.stringify(frame.data ?? null))) return;
      return this.refuse(session, topic, "not_entered", "enter the topic's presence (presence.enter) first");
    }
    const member = session.token?.subject;
    if (member === undefined) {
      const message = "presence needs a subscriber token with a subject (the member id); this socket has none";
      return this.refuse(session, topic, "no_subject", message);
    }
    const data = frame.data === undefined ? null : JSON.stringify(frame.data);
    await this.enter(session, topic, member, frame.session ?? session.sid, data);
  }

  private refuse(session: Session, topic: string, code: string, message: string): void {
    this.deps.sender.frame(session, { type: "presence.refused", topic, code, message } satisfies PresenceRefusedFrame);
  }

  /** `presence.enter`: the socket's connection enters as `member`; entering again replaces the data. */
  async enter(session: Session, topic: string, member: string, sessionId: string, data: string | null): Promise<void> {
    this.load();
    const previous = this.entered.get(session.sid)?.get(topic);
    const place = this.place(session);
    if (previous && previous.session !== sessionId) {
      await this.deps.presence(topic).leave(topic, previous.member, previous.session, place);
    }
    const row: Entered = { member, session: sessionId, at: Date.now() };
    this.index(this.entered, session.sid, topic, row);
    this.deps.sql.exec(
      "INSERT OR REPLACE INTO presence_entered (sid, topic, member, session, at) VALUES (?, ?, ?, ?, ?)",
      session.sid,
      topic,
      member,
      sessionId,
      row.at,
    );
    await this.deps.presence(topic).enter(topic, member, sessionId, place, data);
  }

  /** `presence.update`: false when the socket has not entered the topic. */
  async update(session: Session, topic: string, data: string): Promise<boolean> {
    this.load();
    const row = this.entered.get(session.sid)?.get(topic);
    if (!row) return false;
    const { ok } = await this.deps.presence(topic).update(topic, row.member, row.session, this.place(session), data);
    return ok;
  }

  /** `presence.leave`: the socket's connection leaves now, with no linger. */
  async leave(session: Session, topic: string): Promise<void> {
    this.load();
    const row = this.entered.get(session.sid)?.get(topic);
    if (!row) return;
    this.forgetEntered(session.sid, topic);
    await this.deps.presence(topic).leave(topic, row.member, row.session, this.place(session));
  }

  /**
   * A socket follows the topic's presence (`presence.follow`): the list, a page per frame, or the
   * counts; changes follow as the presence object pushes them.
   */
  async follow(session: Session, topic: string, mode: PresenceMode): Promise<void> {
    this.load();
    this.index(this.follows, topic, session.sid, mode);
    this.deps.sql.exec(
      "INSERT OR REPLACE INTO presence_follows (sid, topic, mode) VALUES (?, ?, ?)",
      session.sid,
      topic,
      mode,
    );
    // Changes pushed while the list is read wait until it is sent: a change read into a page and
    // sent again after it is harmless (join sets, leave deletes), one sent before it would be undone.
    const key = `${session.sid} ${topic}`;
    this.syncing.set(key, []);
    try {
      const side = this.deps.presence(topic);
      let occupancy = await side.follow(topic, this.deps.hub(), mode === "members");
      if (mode === "members") {
        let cursor = "";
        for (let page = 0; ; page += 1) {
          if (!(await this.room(session))) return;
          const result = await side.members(topic, cursor, PRESENCE_PAGE_MAX);
          occupancy = result.occupancy;
          this.deps.sender.send(session, presencePageText(topic, page, result.members, result.next !== null));
          if (result.next === null) break;
          cursor = result.next;
        }
      }
      this.deps.sender.send(session, occupancyText(JSON.stringify(topic), occupancy));
      for (const text of this.syncing.get(key) ?? []) this.deps.sender.send(session, text);
    } finally {
      this.syncing.delete(key);
    }
  }

  /** `presence.unfollow`: the socket stops following the topic's presence. */
  unfollow(sid: string, topic: string): void {
    this.load();
    const followers = this.follows.get(topic);
    if (!followers?.delete(sid)) return;
    if (followers.size === 0) this.follows.delete(topic);
    this.deps.sql.exec("DELETE FROM presence_follows WHERE sid = ? AND topic = ?", sid, topic);
  }

  /** A socket closed or failed: its connections go (and linger at their topics), it follows nothing. */
  closed(sid: string): void {
    void this.inTurn(sid, async () => this.gone(sid));
  }

  private gone(sid: string): void {
    this.load();
    for (const topic of [...this.follows.keys()]) this.unfollow(sid, topic);
    const topics = [...(this.entered.get(sid)?.keys() ?? [])];
    for (const topic of topics) {
      this.forgetEntered(sid, topic);
      void this.deps
        .presence(topic)
        .gone(topic, this.deps.hub(), [sid])
        .catch(() => undefined);
    }
  }

  /**
   * The presence object asks which of `sids` this hub still holds in the topic. Gone: a socket
   * the hub no longer has (it restarted), or one whose client stopped sending heartbeats, which
   * is closed here so its client, if alive, reconnects.
   */
  held(topic: string, sids: readonly string[], now: number): { gone: string[] } {
    this.load();
    const gone: string[] = [];
    for (const sid of sids) {
      const session = this.deps.sessions.bySid(sid);
      const row = this.entered.get(sid)?.get(topic);
      if (!session || !row) {
        if (row) this.forgetEntered(sid, topic);
        gone.push(sid);
        continue;
      }
      if (!heartbeatMissed(this.deps.lastBeat(session.ws) ?? row.at, now)) continue;
      gone.push(sid);
      try {
        session.ws.close(1001, "no heartbeat");
      } catch {
        // Already closing.
      }
    }
    return { gone };
  }

  /**
   * A push from a topic's presence object: changes to members followers, the counts to all. When
   * changes were lost on the way (`resync`), each members follower is sent the whole list again.
   */
  push(push: PresencePush): PresencePushResult {
    this.load();
    const followers = this.follows.get(push.topic);
    if (!followers || followers.size === 0) return { following: false };
    if (push.resync) this.resync(push.topic, followers);
    const topicJson = JSON.stringify(push.topic);
    const changes = push.changes.map((change) => changeText(topicJson, change));
    const counts = occupancyText(topicJson, push.occupancy);
    for (const [sid, mode] of followers) {
      const session = this.deps.sessions.bySid(sid);
      if (!session) continue;
      const texts = mode === "members" ? [...changes, counts] : [counts];
      const held = this.syncing.get(`${sid} ${push.topic}`);
      if (held) {
        held.push(...texts);
        continue;
      }
      try {
        for (const text of texts) this.deps.sender.send(session, text);
      } catch {
        // Closing: its close takes it out.
      }
    }
    return { following: true };
  }

  private resync(topic: string, followers: ReadonlyMap<string, PresenceMode>): void {
    for (const [sid, mode] of followers) {
      const session = this.deps.sessions.bySid(sid);
      if (mode !== "members" || !session) continue;
      void this.inTurn(sid, () => this.follow(session, topic, "members"));
    }
  }

  /** Rebuilds the index from SQLite after a wake; rows of sockets the hub no longer holds are dropped. */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const { sql, sessions } = this.deps;
    for (const row of sql
      .exec<{ sid: string; topic: string; member: string; session: string; at: number }>(
        "SELECT sid, topic, member, session, at FROM presence_entered",
      )
      .toArray()) {
      // A socket gone with a restart stays listed until the presence object asks about it.
      this.index(this.entered, row.sid, row.topic, { member: row.member, session: row.session, at: row.at });
    }
    for (const row of sql
      .exec<{ sid: string; topic: string; mode: string }>("SELECT sid, topic, mode FROM presence_follows")
      .toArray()) {
      if (!sessions.bySid(row.sid)) {
        sql.exec("DELETE FROM presence_follows WHERE sid = ?", row.sid);
        continue;
      }
      this.index(this.follows, row.topic, row.sid, row.mode === "count" ? "count" : "members");
    }
  }

  /**
   * Waits until the socket may be sent more: a large member list goes no faster than its client
   * reads it (acks), like a replay. A client that acknowledges nothing for the stall time is
   * closed with 1013, as a stalled replay is.
   */
  private async room(session: Session): Promise<boolean> {
    const { sender } = this.deps;
    const since = Date.now();
    while (!sender.open(session)) {
      if (Date.now() - since >= sender.bounds.stallMs) {
        try {
          session.ws.close(CLOSE.tryAgainLater, "too far behind: follow again");
        } catch {
          // Already closing.
        }
        return false;
      }
      const mark = session.flow.markAll();
      try {
        if (mark) session.ws.send(mark);
      } catch {
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, ROOM_POLL_MS));
    }
    return true;
  }

  /**
   * Runs `work` after the socket's earlier presence work (an update must not overtake its enter);
   * a failure ends only its own frame.
   */
  private inTurn(sid: string, work: () => Promise<void>): Promise<void> {
    return this.deps.turns.run(sid, "presence", work).catch(() => undefined);
  }

  /** Topics the socket entered or follows the presence of. */
  private topicsOf(sid: string): number {
    const topics = new Set(this.entered.get(sid)?.keys());
    for (const [topic, followers] of this.follows) if (followers.has(sid)) topics.add(topic);
    return topics.size;
  }

  private forgetEntered(sid: string, topic: string): void {
    const topics = this.entered.get(sid);
    topics?.delete(topic);
    if (topics?.size === 0) this.entered.delete(sid);
    this.deps.sql.exec("DELETE FROM presence_entered WHERE sid = ? AND topic = ?", sid, topic);
  }

  private place(session: Session): Place {
    return { hub: this.deps.hub(), sid: session.sid };
  }

  private index<T>(map: Map<string, Map<string, T>>, outer: string, inner: string, value: T): void {
    let entries = map.get(outer);
    if (!entries) {
      entries = new Map();
      map.set(outer, entries);
    }
    entries.set(inner, value);
  }
}

function changeText(topicJson: string, change: PresenceDelta): string {
  const data = change.data === undefined ? "" : `,"data":${change.data}`;
  return `{"type":"${change.type}","topic":${topicJson},"member":${JSON.stringify(change.member)}${data}}`;
}

function occupancyText(topicJson: string, occupancy: Occupancy): string {
  return `{"type":"occupancy","topic":${topicJson},"members":${occupancy.members},"connections":${occupancy.connections}}`;
}

function presencePageText(
  topic: string,
  page: number,
  members: readonly { member: string; data: string }[],
  more: boolean,
): string {
  const list = members.map((m) => `{"member":${JSON.stringify(m.member)},"data":${m.data}}`).join(",");
  return `{"type":"presence","topic":${JSON.stringify(topic)},"page":${page},"members":[${list}],"more":${more}}`;
}
