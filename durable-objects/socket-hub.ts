import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import { KEY_OPERATIONS, TopicPatternSchema } from "../protocol/auth.ts";
import {
  type ErrorFrame,
  HEARTBEAT_PING,
  HEARTBEAT_PONG,
  parseAck,
  parseAuth,
  parseClientFrame,
  type SubscribedFrame,
  type TokenRefreshedFrame,
} from "../protocol/frames.ts";
import { SubscribeQuerySchema, TopicsSocketQuerySchema } from "../protocol/query.ts";
import { rewindOf } from "../protocol/rewind.ts";
import { SocketCredentialSchema } from "../protocol/socket-credential.ts";
import { appCatalog } from "../runtime/app-catalog.ts";
import { type MeshConfig, readConfig } from "../runtime/config.ts";
import type { Env } from "../runtime/env.ts";
import { logLine } from "../runtime/log.ts";
import { closeWithRefusal, refuseSocket } from "../runtime/socket-refusal.ts";
import { broadcast } from "./hub-delivery.ts";
import { HubFeeds, type TopicSide } from "./hub-feeds.ts";
import { HubPresence, type PresenceSide } from "./hub-presence.ts";
import { type HubPublishDeps, publishFromSocket } from "./hub-publish.ts";
import { HubReplay } from "./hub-replay.ts";
import type { HubPush, HubPushResult, HubStats } from "./hub-rpc.ts";
import { HubSender } from "./hub-sender.ts";
import { HubSessions, type Session } from "./hub-sessions.ts";
import { HubStore, type SocketScope } from "./hub-store.ts";
import {
  checkPinnedCursor,
  type SubStart,
  type SubscribeDeps,
  subscribe,
  subscribePinned,
  unsubscribe,
} from "./hub-subscribe.ts";
import type { PresencePush, PresencePushResult } from "./presence-fanout.ts";
import { SerialChains } from "./serial-chains.ts";
import { SocketCounts } from "./socket-counts.ts";
import { clientTag, credentialTag, subjectTag, tokenTag } from "./socket-tags.ts";
import { checkTokenRefresh } from "./token-refresh-check.ts";
import { topicDirectory } from "./topic-directory.ts";

/** The scope of a key (or public) caller, as the Worker hands it over. */
const SocketScopeSchema = v.object({
  topics: v.array(TopicPatternSchema),
  ops: v.array(v.picklist(KEY_OPERATIONS)),
});

/** How long a client refused for too many connections waits before it connects again. */
const FULL_RETRY_SECONDS = 10;
/** Marks per allowance of unacknowledged characters: a client reading along acks well before a stop. */
const MARKS_PER_LIMIT = 4;
/** Characters of recent events a hub keeps per topic, next to the count bound (HUB_WINDOW_EVENTS). */
const WINDOW_CHARS = 1024 * 1024;
const TOKEN_EXPIRED = "the token expired: refresh it in band (auth:<token>) before it does";
const TOPICS_TAKES = "frames are text: ping, ack:<id>, auth:<token> or JSON subscribe / unsubscribe / publish";
const PINNED_TAKES = "this socket takes no frames other than ping, ack:<id> and auth:<token>";

/**
 * A hub: holds browser sockets that follow many topics each (`/v1/ws`) or one each (the one-topic
 * URL) and serves them from the pushes of the topics they follow, so a topic sends each append
 * once per hub, not once per socket. The Worker picks the hub (`hub-<i>`) and checks the caller; sockets, feeds, replay and
 * delivery live in plain modules, and this class only wires them to the runtime.
 */
export class SocketHub extends DurableObject<Env> {
  private readonly config: MeshConfig;
  private readonly store: HubStore;
  private readonly sessions: HubSessions;
  private readonly feeds: HubFeeds;
  private readonly sender: HubSender;
  private readonly replay: HubReplay;
  private readonly deps: SubscribeDeps;
  /** Sockets the hub holds in all, and per client address and per credential. */
  private readonly limits: { maxSockets: number; maxPerClient: number; maxPerCredential: number };
  private readonly counts: SocketCounts;
  private readonly publishing: HubPublishDeps;
  /** Frames whose handling calls another object, kept in the order each socket sent them. */
  private readonly turns = new SerialChains();
  private readonly presence: HubPresence;
  private name: string | null = null;
  private registered = false;
  /** The alarm's time as last set or read; undefined until read once. */
  private armedAt: number | null | undefined = undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.store = new HubStore(ctx.storage.sql);
    this.counts = new SocketCounts(ctx);
    this.sessions = new HubSessions(ctx, this.store, Math.ceil(this.config.liveMaxUnackedChars / MARKS_PER_LIMIT));
    this.sender = new HubSender({
      maxUnackedChars: this.config.liveMaxUnackedChars,
      stallMs: this.config.liveStallSeconds * 1000,
    });
    this.feeds = new HubFeeds(
      this.store,
      (topic): TopicSide => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic)),
      () => this.hubName(),
      { windowEvents: this.config.hubWindowEvents, windowChars: WINDOW_CHARS, pageSize: this.config.replayPageSize },
      (topic) => this.restartTopic(topic),
    );
    this.replay = new HubReplay(this.sessions, this.feeds, this.sender);
    this.deps = {
      sessions: this.sessions,
      sender: this.sender,
      replay: this.replay,
      maxTopicsPerSocket: this.config.hubMaxTopicsPerSocket,
      turns: this.turns,
      resolveRewind: (topic, rewind) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic)).rewind(topic, rewind),
    };
    this.limits = {
      maxSockets: this.config.hubMaxSockets,
      maxPerClient: this.config.liveMaxSocketsPerClient,
      maxPerCredential: this.config.liveMaxSocketsPerCredential,
    };
    this.publishing = {
      config: this.config,
      catalog: appCatalog,
      limit: async (key) => (await env.KEY_RATE_LIMITER.limit({ key })).success,
      append: (topic, events) => env.TOPIC_LOG.get(env.TOPIC_LOG.idFromName(topic)).publish(topic, events),
    };
    this.presence = new HubPresence({
      sql: ctx.storage.sql,
      sessions: this.sessions,
      sender: this.sender,
      presence: (topic): PresenceSide => env.TOPIC_PRESENCE.get(env.TOPIC_PRESENCE.idFromName(topic)),
      hub: () => this.hubName(),
      maxTopics: this.config.hubMaxTopicsPerSocket,
      lastBeat: (ws) => ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? null,
      turns: this.turns,
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT_PING, HEARTBEAT_PONG));
  }

  /**
   * A socket handed over by the Worker, which checked the caller and set the `x-mesh-*` headers:
   * a `/v1/ws` socket, or with `x-mesh-topic` one pinned to that topic (the one-topic URL). A full
   * hub answers 503 (`x-mesh-refusal: hub_full`) so the Worker tries another one.
   */
  override async fetch(request: Request): Promise<Response> {
    this.wake(request.headers.get("x-mesh-hub"));
    const client = request.headers.get("x-mesh-client") ?? "unknown";
    const credential = request.headers.get("x-mesh-credential") ?? "unknown";
    const full = this.admit(client, credential);
    if (full) return full;
    const params = Object.fromEntries(new URL(request.url).searchParams);
    const pinned = request.headers.get("x-mesh-topic");
    let start: SubStart | null = null;
    let announce: SubscribedFrame | null = null;
    let batch: boolean;
    if (pinned) {
      const query = v.parse(SubscribeQuerySchema, params);
      batch = query.batch === true;
      const asked = {
        topic: pinned,
        after: query.after ?? 0,
        epoch: query.epoch,
        types: query.types,
        filter: query.filter,
      };
      // Refused before the upgrade completes, as the one-topic socket always was.
      const checked = await checkPinnedCursor(this.feeds, this.deps.resolveRewind, asked, rewindOf(query));
      if (!checked.ok) return refuseSocket(checked.code, checked.message, checked.retryAfterSeconds);
      ({ start, announce } = checked);
      // Other sockets may have come in while the topic was asked.
      const refused = this.admit(client, credential);
      if (refused) return refused;
    } else {
      batch = v.parse(TopicsSocketQuerySchema, params).batch === true;
    }
    const tokenHeader = request.headers.get("x-mesh-token");
    const token = tokenHeader === null ? null : v.parse(SocketCredentialSchema, JSON.parse(tokenHeader));
    const scope: SocketScope = token
      ? { topics: token.topics, ops: token.ops }
      : v.parse(SocketScopeSchema, JSON.parse(request.headers.get("x-mesh-scope") ?? '{"topics":[],"ops":[]}'));
    const { 0: clientEnd, 1: server } = new WebSocketPair();
    // Tagged so the runtime counts and finds them per client, credential, token and subject,
    // hibernation included.
    const tags = [clientTag(client), credentialTag(credential)];
    if (token) tags.push(tokenTag(token.tokenId));
    if (token?.subject !== undefined) tags.push(subjectTag(token.subject));
    this.ctx.acceptWebSocket(server, tags);
    this.counts.opened(server, tags);
    const session = this.sessions.open(server, { sid: crypto.randomUUID(), batch, scope, token, pinned });
    if (start) subscribePinned(this.deps, session, start, announce);
    if (token) await this.armAlarm();
    await this.register();
    return new Response(null, { status: 101, webSocket: clientEnd });
  }

  /**
   * Refuses a socket past the hub's limits: in all (the Worker then tries another hub), and per
   * client address and per credential on this hub, with a retryable close and a delay.
   */
  private admit(client: string, credential: string): Response | null {
    const { maxSockets, maxPerClient, maxPerCredential } = this.limits;
    if (this.counts.atLimit(null, maxSockets)) {
      return new Response("this hub is full", { status: 503, headers: { "x-mesh-refusal": "hub_full" } });
    }
    if (this.counts.atLimit(clientTag(client), maxPerClient)) {
      return refuseSocket(
        "too_many_connections",
        `this client address holds ${maxPerClient} sockets on this hub, its limit`,
        FULL_RETRY_SECONDS,
      );
    }
    if (this.counts.atLimit(credentialTag(credential), maxPerCredential)) {
      return refuseSocket(
        "too_many_connections",
        `this credential holds ${maxPerCredential} sockets on this hub, its limit`,
        FULL_RETRY_SECONDS,
      );
    }
    return null;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.wake(null);
    if (message === HEARTBEAT_PING) {
      ws.send(HEARTBEAT_PONG);
      return;
    }
    const session = this.sessions.of(ws);
    if (!session) {
      ws.send(JSON.stringify(invalidFrame(TOPICS_TAKES)));
      return;
    }
    const takes = session.pinned === null ? TOPICS_TAKES : PINNED_TAKES;
    if (typeof message !== "string") {
      this.sender.frame(session, invalidFrame(takes));
      return;
    }
    const markId = parseAck(message);
    if (markId !== null) {
      if (session.flow.ack(markId)) this.replay.resumeIfDrained(session);
      return;
    }
    const token = parseAuth(message);
    if (token !== null) return this.refreshToken(session, token);
    // A one-topic socket follows its topic only: subscribe frames are not for it.
    if (session.pinned !== null) {
      this.sender.frame(session, invalidFrame(takes));
      return;
    }
    const parsed = parseClientFrame(message);
    if (!parsed.ok) {
      this.sender.frame(session, invalidFrame(parsed.message));
      return;
    }
    const { frame } = parsed;
    if (frame.type === "unsubscribe") return unsubscribe(this.deps, session, frame.topic);
    if (session.token && session.token.expiresAt <= Date.now()) {
      return this.closeSocket(ws, "token_expired", TOKEN_EXPIRED);
    }
    if (frame.type === "publish") {
      // A socket's events are stored in the order it sent them.
      return this.turns.run(session.sid, "publish", async () => {
        this.sender.frame(session, await publishFromSocket(this.publishing, session.token, frame));
      });
    }
    if (frame.type !== "subscribe") return this.presence.frame(session, frame);
    subscribe(this.deps, session, frame);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.wake(null);
    this.counts.closed(ws);
    const session = this.sessions.of(ws);
    if (session) this.sessions.close(session);
    if (session) this.presence.closed(session.sid);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // Already closed by the runtime.
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.wake(null);
    this.counts.closed(ws);
    const session = this.sessions.of(ws);
    if (session) this.sessions.close(session);
    if (session) this.presence.closed(session.sid);
  }

  /** A topic's committed appends, pushed once to this hub for all its sockets that follow the topic. */
  async deliver(push: HubPush): Promise<HubPushResult> {
    this.wake(null);
    const { result, applied } = await this.feeds.apply(push, () => this.sessions.subscriberCount(push.topic));
    const feed = this.feeds.get(push.topic);
    if (applied && feed) {
      broadcast(this.deps, feed, applied);
      this.feeds.saveHead(feed);
    }
    return result;
  }

  /** A topic's presence changes, pushed once to this hub for all its sockets that follow them. */
  async presencePush(push: PresencePush): Promise<PresencePushResult> {
    this.wake(null);
    return this.presence.push(push);
  }

  /** Which of `sids` still hold a connection in the topic's presence (asked by its presence object). */
  async presenceHeld(topic: string, sids: string[]): Promise<{ gone: string[] }> {
    this.wake(null);
    return this.presence.held(topic, sids, Date.now());
  }

  /** Closes the hub's sockets of a revoked token or subject with 4401; answers how many. */
  async disconnect(kind: "token" | "subject", value: string): Promise<number> {
    this.wake(null);
    const sockets = this.ctx.getWebSockets(kind === "token" ? tokenTag(value) : subjectTag(value));
    for (const ws of sockets) this.closeSocket(ws, "token_revoked", "this token was revoked: get a new one");
    return sockets.length;
  }

  async stats(): Promise<HubStats> {
    this.wake(null);
    return {
      hub: this.hubName(),
      sockets: this.ctx.getWebSockets().length,
      topics: this.feeds.count,
      subscriptions: this.sessions.subscriptionCount,
      pulls: this.feeds.pulls,
    };
  }

  /** Closes, with 4440, every socket whose token expired; the client opens a new one and resumes. */
  override async alarm(): Promise<void> {
    this.armedAt = null;
    this.wake(null);
    const now = Date.now();
    for (const sid of this.store.expiredSockets(now)) {
      const session = this.sessions.bySid(sid);
      if (session) this.closeSocket(session.ws, "token_expired", TOKEN_EXPIRED);
    }
    await this.armAlarm();
  }

  /**
   * `auth:<token>` on an open socket: the fresh token replaces the old one when it passes the same
   * checks as at connect, is not revoked, is no wider and still covers every topic the socket
   * follows; otherwise the socket is refused as a connect would be.
   */
  private async refreshToken(session: Session, token: string): Promise<void> {
    if (!session.token) {
      this.sender.frame(session, invalidFrame("this socket was opened with a key: it has no token to refresh"));
      return;
    }
    const refresh = await checkTokenRefresh(this.env, session.token, [...session.subs.keys()], token);
    if (!refresh.ok) return this.closeSocket(session.ws, refresh.code, refresh.message);
    this.sessions.setToken(session, refresh.credential);
    const frame: TokenRefreshedFrame = {
      type: "token-refreshed",
      expiresAt: new Date(refresh.credential.expiresAt).toISOString(),
    };
    this.sender.frame(session, frame);
    await this.armAlarm();
  }

  private closeSocket(ws: WebSocket, code: Parameters<typeof closeWithRefusal>[1], message: string): void {
    closeWithRefusal(ws, code, message);
    const session = this.sessions.of(ws);
    if (session) this.sessions.close(session);
    if (session) this.presence.closed(session.sid);
  }

  /** The alarm runs when the next socket's token expires; none while no socket runs on a token. */
  private async armAlarm(): Promise<void> {
    if (this.armedAt === undefined) this.armedAt = await this.ctx.storage.getAlarm();
    const due = this.store.nextExpiry();
    if (due === this.armedAt) return;
    this.armedAt = due;
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(due, Date.now() + 1));
  }

  /**
   * Every entry point starts here: the hub learns its name from the Worker's first handover, and
   * after a wake rebuilds its index, re-attaches to the topics its sockets follow (with the heads
   * it kept) and restarts the replays that were under way.
   */
  private wake(name: string | null): void {
    if (name && this.name === null) {
      this.name = name;
      if (this.store.getMeta("name") !== name) this.store.setMeta("name", name);
    }
    const replaying = this.sessions.load();
    if (replaying === null) return;
    for (const topic of this.sessions.topics()) void this.feeds.ready(topic).catch(() => undefined);
    for (const session of replaying) void this.replay.pump(session);
  }

  /** A topic's log was reset: its subscriptions replay from the new log with an `epoch` gap. */
  private restartTopic(topic: string): void {
    for (const session of this.sessions.following(topic)) {
      const sub = session.subs.get(topic);
      if (sub?.mode !== "live") continue;
      sub.mode = "replaying";
      this.sessions.save(session, sub);
      void this.replay.pump(session);
    }
  }

  private hubName(): string {
    this.name ??= this.store.getMeta("name");
    return this.name ?? "";
  }

  /** Listed once in the topic directory, so revoking a token reaches this hub's sockets. */
  private async register(): Promise<void> {
    if (this.registered) return;
    if (this.store.getMeta("registered") === null) {
      try {
        await topicDirectory(this.env).registerHub(this.hubName());
        this.store.setMeta("registered", "1");
      } catch (err) {
        // Best effort, as for topics: the next socket tries again.
        logLine("directory register failed", { hub: this.hubName(), error: String(err) });
        return;
      }
    }
    this.registered = true;
  }
}

/** A frame the socket does not take: refused, the socket stays open. */
function invalidFrame(message: string): ErrorFrame {
  return { type: "error", code: "invalid_body", message };
}
