import type { SocketCredential } from "../protocol/socket-credential.ts";
import type { HubStore, SocketScope, SubRow } from "./hub-store.ts";
import { SocketFlow } from "./socket-flow.ts";

/** One topic a socket follows, as the hub serves it (`cursor`: last seq sent, or sent after when live). */
export type Sub = Omit<SubRow, "sid">;

/** One socket: its scope and token, the topics it follows, what it was sent and acknowledged. */
export interface Session {
  sid: string;
  ws: WebSocket;
  batch: boolean;
  scope: SocketScope;
  token: SocketCredential | null;
  /** The one topic of a socket opened on the one-topic URL; null for a `/v1/ws` socket. */
  pinned: string | null;
  subs: Map<string, Sub>;
  flow: SocketFlow;
}

/**
 * The hub's sockets and the topics each follows, indexed both ways. Memory mirrors the hub's SQLite
 * and is rebuilt from it (and the runtime's sockets) when the hub wakes: a socket's attachment
 * holds only its id, since attachments are capped at 2,048 bytes.
 */
export class HubSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly byTopic = new Map<string, Set<Session>>();
  private loaded = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly store: HubStore,
    private readonly markEvery: number,
  ) {}

  /**
   * Rebuilds the index after a wake; answers the sessions that were replaying, so their replay
   * goes on (null when the index is built already). Rows of sockets the runtime no longer holds (the hub was aborted) are deleted. A live
   * subscription goes on from the feed's head: everything up to it was sent before the hub slept.
   */
  load(): Session[] | null {
    if (this.loaded) return null;
    this.loaded = true;
    const open = new Map<string, WebSocket>();
    for (const ws of this.ctx.getWebSockets()) {
      const sid = (ws.deserializeAttachment() as { sid?: string } | null)?.sid;
      if (sid) open.set(sid, ws);
    }
    for (const row of this.store.sockets()) {
      const ws = open.get(row.sid);
      if (!ws) {
        this.store.deleteSocket(row.sid);
        continue;
      }
      this.sessions.set(row.sid, { ...row, ws, subs: new Map(), flow: new SocketFlow(this.markEvery) });
    }
    const heads = new Map<string, number>();
    const replaying = new Set<Session>();
    for (const row of this.store.subs()) {
      const session = this.sessions.get(row.sid);
      if (!session) continue;
      let head = heads.get(row.topic);
      if (head === undefined) {
        head = this.store.feed(row.topic)?.head ?? row.cursor;
        heads.set(row.topic, head);
      }
      const sub = subOf(row);
      if (sub.mode === "live") sub.cursor = Math.max(sub.cursor, head);
      else replaying.add(session);
      this.index(session, sub);
    }
    return [...replaying];
  }

  of(ws: WebSocket): Session | undefined {
    const sid = (ws.deserializeAttachment() as { sid?: string } | null)?.sid;
    return sid === undefined ? undefined : this.sessions.get(sid);
  }

  bySid(sid: string): Session | undefined {
    return this.sessions.get(sid);
  }

  /** Topics followed by at least one socket. */
  topics(): IterableIterator<string> {
    return this.byTopic.keys();
  }

  following(topic: string): ReadonlySet<Session> {
    return this.byTopic.get(topic) ?? new Set();
  }

  subscriberCount(topic: string): number {
    return this.byTopic.get(topic)?.size ?? 0;
  }

  get subscriptionCount(): number {
    let count = 0;
    for (const session of this.sessions.values()) count += session.subs.size;
    return count;
  }

  open(ws: WebSocket, params: Omit<Session, "ws" | "subs" | "flow">): Session {
    ws.serializeAttachment({ sid: params.sid });
    const { sid, batch, scope, token, pinned } = params;
    this.store.insertSocket({ sid, batch, scope, token, pinned });
    const session: Session = { ...params, ws, subs: new Map(), flow: new SocketFlow(this.markEvery) };
    this.sessions.set(params.sid, session);
    return session;
  }

  /** Forgets a closed socket and everything it followed. */
  close(session: Session): void {
    if (!this.sessions.delete(session.sid)) return;
    for (const topic of session.subs.keys()) this.byTopic.get(topic)?.delete(session);
    for (const topic of session.subs.keys()) if (this.byTopic.get(topic)?.size === 0) this.byTopic.delete(topic);
    this.store.deleteSocket(session.sid);
  }

  /** Starts or replaces the socket's subscription of `sub.topic`. */
  subscribe(session: Session, sub: Sub): void {
    this.index(session, sub);
    this.save(session, sub);
  }

  unsubscribe(session: Session, topic: string): void {
    if (!session.subs.delete(topic)) return;
    const followers = this.byTopic.get(topic);
    followers?.delete(session);
    if (followers?.size === 0) this.byTopic.delete(topic);
    this.store.deleteSub(session.sid, topic);
  }

  /** Writes a subscription's mode and cursor: on subscribe, on going live, when its sending stops. */
  save(session: Session, sub: Sub): void {
    this.store.putSub({ sid: session.sid, ...sub });
  }

  setToken(session: Session, token: SocketCredential): void {
    session.token = token;
    session.scope = { topics: token.topics, ops: token.ops };
    this.store.setToken(session.sid, token);
  }

  private index(session: Session, sub: Sub): void {
    session.subs.set(sub.topic, sub);
    let followers = this.byTopic.get(sub.topic);
    if (!followers) {
      followers = new Set();
      this.byTopic.set(sub.topic, followers);
    }
    followers.add(session);
  }
}

function subOf({ sid: _sid, ...sub }: SubRow): Sub {
  return sub;
}
