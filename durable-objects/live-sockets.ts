import { CLOSE } from "../protocol/close-codes.ts";
import {
  type CaughtUpFrame,
  EVENTS_FRAME_CHARS,
  eventFrameText,
  eventsFrameText,
  type GapFrame,
  type TokenRefreshedFrame,
} from "../protocol/frames.ts";
import type { SocketCredential } from "../protocol/socket-credential.ts";
import { closeWithRefusal, refuseSocket } from "../runtime/socket-refusal.ts";
import { batchFrames, eventsText, frameEnd } from "./live-frames.ts";
import type { LogStore, StoredRow } from "./log-store.ts";
import { gapFrame, planResume } from "./resume-plan.ts";
import { SocketFlow } from "./socket-flow.ts";
import { clientTag, credentialTag, subjectTag, tokenTag } from "./socket-tags.ts";

/**
 * Per-socket state, kept in the socket's attachment so it survives hibernation. A socket is
 * `replaying` while it is sent stored pages and `live` once it has reached the head; live sockets
 * get every append as it commits.
 */
export interface SocketState {
  topic: string;
  mode: "replaying" | "live";
  /** Last seq sent (replaying) or the head when the socket went live. */
  cursor: number;
  types?: string[];
  /** The client takes `events` frames: several events per frame. */
  batch?: boolean;
  /** The subscriber token the socket runs on (none for a key): enforced until it expires. */
  credential?: SocketCredential;
}

export interface SubscribeParams {
  topic: string;
  after: number;
  types?: string[];
  epoch?: string;
  batch?: boolean;
  /** Who connects: the client's address and the credential's id, for the connection limits. */
  client: string;
  credential: string;
  /** The subscriber token, when the socket is opened with one. */
  token?: SocketCredential;
}

/** How many sockets the topic object holds at most: in all, and per client address and per credential. */
export interface SocketLimits {
  maxSockets: number;
  maxPerClient: number;
  maxPerCredential: number;
}

/** How long a refused socket's client is asked to wait before it connects again. */
const FULL_RETRY_SECONDS = 10;

/** Marks per allowance of unacknowledged characters: a client reading along acks well before a stop. */
const MARKS_PER_LIMIT = 4;

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** How far one socket may fall behind, and how many the object holds, from the deployment's config. */
export interface FlowLimits extends SocketLimits {
  /** Characters sent and not yet acknowledged at which sending stops. */
  maxUnackedChars: number;
  /** A stopped socket with no ack for this long is closed with 1013 (try again later). */
  stallMs: number;
}

/**
 * The live side of a topic: accepts hibernatable WebSockets, replays `after+1 … head` in bounded
 * pages, then streams appends. The seam between replay and live is exact because the DO is single
 * threaded: the last page read and the switch to `live` happen in one synchronous step, so an
 * append lands either in that page or in the broadcast that follows it, never in both or neither.
 *
 * Flow control: the runtime queues whatever is sent to a socket that does not read, without limit
 * (measured: a peer that stopped reading grew workerd's memory by the full stream). So each socket
 * may have at most `maxUnackedChars` unacknowledged (the client acks the marks it reads, see
 * socket-flow.ts). Past that a live socket is switched back to `replaying` at its position and sent
 * nothing more: the log is its buffer. Acks restart the replay, which goes live again once it
 * reaches the head; a socket that stays stopped for `stallMs` is closed with 1013, and its client
 * resumes from its cursor. Acks cannot be forged, so this also bounds a client that lies.
 */
export class LiveSockets {
  private readonly states = new WeakMap<WebSocket, SocketState>();
  private readonly flows = new WeakMap<WebSocket, SocketFlow>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly store: LogStore,
    private readonly pageSize: number,
    private readonly limits: FlowLimits,
  ) {}

  accept(params: SubscribeParams): Response {
    const plan = planResume(params.topic, this.store.position(), params.after, params.epoch);
    if (!plan.ok) return refuseSocket(plan.code, plan.message);
    const refused = this.overLimit(params);
    if (refused) return refused;
    const { 0: client, 1: server } = new WebSocketPair();
    // Tagged so the runtime counts and finds them per client, credential, token and subject,
    // hibernation included.
    const tags = [clientTag(params.client), credentialTag(params.credential)];
    if (params.token) tags.push(tokenTag(params.token.tokenId));
    if (params.token?.subject !== undefined) tags.push(subjectTag(params.token.subject));
    this.ctx.acceptWebSocket(server, tags);
    // An empty filter would match nothing live but everything in replay: treat it as no filter.
    const types = params.types && params.types.length > 0 ? params.types : undefined;
    this.setState(server, {
      topic: params.topic,
      mode: "replaying",
      cursor: plan.cursor,
      types,
      ...(params.batch ? { batch: true } : {}),
      ...(params.token ? { credential: params.token } : {}),
    });
    if (plan.gap) this.send(server, JSON.stringify(plan.gap));
    void this.replay(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Refuses a socket past the object's limits, below the runtime's own (32,768 sockets per object),
   * with a retryable close and a delay the client waits out.
   */
  private overLimit(params: SubscribeParams): Response | null {
    const { maxSockets, maxPerClient, maxPerCredential } = this.limits;
    if (this.ctx.getWebSockets().length >= maxSockets) {
      return refuseSocket(
        "overloaded",
        `topic ${params.topic} holds its limit of ${maxSockets} sockets`,
        FULL_RETRY_SECONDS,
      );
    }
    if (this.ctx.getWebSockets(clientTag(params.client)).length >= maxPerClient) {
      return refuseSocket(
        "too_many_connections",
        `this client address holds ${maxPerClient} sockets to topic ${params.topic}, its limit`,
        FULL_RETRY_SECONDS,
      );
    }
    if (this.ctx.getWebSockets(credentialTag(params.credential)).length >= maxPerCredential) {
      return refuseSocket(
        "too_many_connections",
        `this credential holds ${maxPerCredential} sockets to topic ${params.topic}, its limit`,
        FULL_RETRY_SECONDS,
      );
    }
    return null;
  }

  /**
   * Closes, with 4440, every socket whose token has expired (its client's token function opens a
   * new one at once and resumes from its cursor); answers when the next token expires, or null.
   */
  expireTokens(now: number): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      const expiresAt = this.state(ws)?.credential?.expiresAt;
      if (expiresAt === undefined) continue;
      if (expiresAt <= now)
        closeWithRefusal(ws, "token_expired", "the token expired: refresh it in band (auth:<token>) before it does");
      else next = next === null ? expiresAt : Math.min(next, expiresAt);
    }
    return next;
  }

  /** Replaces the socket's token (checked by the caller); answers the frame that says so. */
  refreshToken(ws: WebSocket, credential: SocketCredential): TokenRefreshedFrame | null {
    const state = this.state(ws);
    if (!state?.credential) return null;
    this.setState(ws, { ...state, credential });
    return { type: "token-refreshed", expiresAt: new Date(credential.expiresAt).toISOString() };
  }

  /** The token a socket runs on; undefined for one opened with a key. */
  credentialOf(ws: WebSocket): { topic: string; credential?: SocketCredential } | null {
    const state = this.state(ws);
    return state ? { topic: state.topic, credential: state.credential } : null;
  }

  /** Closes every socket of a revoked token or subject with 4401; answers how many. */
  disconnect(kind: "token" | "subject", value: string): number {
    const sockets = this.ctx.getWebSockets(kind === "token" ? tokenTag(value) : subjectTag(value));
    for (const ws of sockets) closeWithRefusal(ws, "token_revoked", "this token was revoked: get a new one");
    return sockets.length;
  }

  /** The client has read up to the mark `markId`: sending may go on. */
  ack(ws: WebSocket, markId: string): void {
    const flow = this.flow(ws);
    if (flow.ack(markId)) this.resumeIfDrained(ws, flow);
  }

  /**
   * Sends stored pages until the head is reached, yielding between pages so appends interleave.
   * Stops early, keeping its place, when the client has too much unacknowledged.
   */
  private async replay(ws: WebSocket): Promise<void> {
    const flow = this.flow(ws);
    if (flow.pumping) return;
    flow.pumping = true;
    try {
      for (;;) {
        let state = this.state(ws);
        if (!state || ws.readyState !== WebSocket.OPEN) return;
        const position = this.store.position();
        if (state.cursor < position.oldest - 1) {
          // Retention trimmed the log between two pages: say so instead of skipping silently.
          this.send(ws, JSON.stringify(gapFrame(state.topic, state.cursor, position, "retention")));
          state = { ...state, cursor: position.oldest - 1 };
        }
        const rows = this.store.read(state.cursor, this.pageSize, state.types);
        const topicJson = JSON.stringify(state.topic);
        let sent = 0;
        while (sent < rows.length && flow.unacked < this.limits.maxUnackedChars) {
          if (!state.batch) {
            this.send(ws, eventFrameText(topicJson, rows[sent].body));
            sent += 1;
            continue;
          }
          const end = frameEnd(rows, sent, Math.min(EVENTS_FRAME_CHARS, this.limits.maxUnackedChars - flow.unacked));
          this.send(ws, eventsText(topicJson, rows, sent, end));
          sent = end;
        }
        if (sent < rows.length) {
          // The rest waits in the log until acks come in.
          this.setState(ws, { ...state, cursor: sent > 0 ? rows[sent - 1].seq : state.cursor });
          this.stop(ws, flow, Date.now());
          return;
        }
        flow.stoppedAt = null;
        if (rows.length < this.pageSize) {
          // Same synchronous step as the last read: no append can fall between it and going live.
          this.setState(ws, { ...state, mode: "live", cursor: position.head });
          const caughtUp: CaughtUpFrame = {
            type: "caught-up",
            topic: state.topic,
            head: position.head,
            epoch: position.epoch,
          };
          this.send(ws, JSON.stringify(caughtUp));
          return;
        }
        this.setState(ws, { ...state, cursor: rows[rows.length - 1].seq });
        await yieldToEventLoop();
      }
    } catch {
      // The socket closed under the replay; its client resumes from its own cursor.
    } finally {
      flow.pumping = false;
    }
  }

  /**
   * Sends freshly appended events to every live socket. Each frame is serialized once for every
   * socket that takes it: one frame per event, or for batching sockets without a type filter the
   * appends in as few `events` frames as their size allows.
   */
  broadcast(topic: string, rows: StoredRow[]): void {
    if (rows.length === 0) return;
    const topicJson = JSON.stringify(topic);
    let single: string[] | null = null;
    let batched: string[] | null = null;
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      const state = this.state(ws);
      if (!state || ws.readyState !== WebSocket.OPEN) continue;
      const flow = this.flow(ws);
      if (state.mode !== "live") {
        this.closeIfStalled(ws, flow, now);
        this.resumeIfDrained(ws, flow);
        continue;
      }
      if (flow.unacked >= this.limits.maxUnackedChars) {
        // Every earlier append reached this socket: it resumes from the log at this batch.
        this.setState(ws, { ...state, mode: "replaying", cursor: rows[0].seq - 1 });
        this.stop(ws, flow, now);
        continue;
      }
      let frames: string[];
      if (state.types) {
        const types = state.types;
        const wanted = rows.filter((row) => types.includes(row.type));
        frames = state.batch
          ? batchFrames(topicJson, wanted)
          : wanted.map((row) => eventFrameText(topicJson, row.body));
      } else if (state.batch) {
        batched ??= batchFrames(topicJson, rows);
        frames = batched;
      } else {
        single ??= rows.map((row) => eventFrameText(topicJson, row.body));
        frames = single;
      }
      try {
        for (const frame of frames) this.send(ws, frame);
      } catch {
        // A socket that is closing cannot be written; its client resumes from its own cursor.
      }
    }
  }

  get count(): number {
    return this.ctx.getWebSockets().length;
  }

  private send(ws: WebSocket, text: string): void {
    ws.send(text);
    const mark = this.flow(ws).counted(text.length);
    if (mark !== null) ws.send(mark);
  }

  /** Sending stops for lack of acks: a last mark lets the client acknowledge everything it was sent. */
  private stop(ws: WebSocket, flow: SocketFlow, now: number): void {
    flow.stoppedAt ??= now;
    const mark = flow.markAll();
    if (mark === null) return;
    try {
      ws.send(mark);
    } catch {
      // A socket that is closing cannot be written; its client resumes from its own cursor.
    }
  }

  private flow(ws: WebSocket): SocketFlow {
    let flow = this.flows.get(ws);
    if (!flow) {
      flow = new SocketFlow(Math.ceil(this.limits.maxUnackedChars / MARKS_PER_LIMIT));
      this.flows.set(ws, flow);
    }
    return flow;
  }

  /**
   * Restarts the replay of a stopped socket once half its allowance is free (so it does not
   * stop and start on every ack); also picks up a replay that an eviction cut short.
   */
  private resumeIfDrained(ws: WebSocket, flow: SocketFlow): void {
    if (flow.pumping || this.state(ws)?.mode !== "replaying") return;
    if (flow.unacked > this.limits.maxUnackedChars / 2) return;
    void this.replay(ws);
  }

  private closeIfStalled(ws: WebSocket, flow: SocketFlow, now: number): void {
    if (flow.stoppedAt === null || now - flow.stoppedAt < this.limits.stallMs) return;
    try {
      ws.close(CLOSE.tryAgainLater, "too far behind: resume from your cursor");
    } catch {
      // Already closing.
    }
  }

  /** The socket's state; null for a socket accepted without one (never expected, never fatal). */
  private state(ws: WebSocket): SocketState | null {
    let state = this.states.get(ws);
    if (!state) {
      state = (ws.deserializeAttachment() as SocketState | null) ?? undefined;
      if (!state) return null;
      this.states.set(ws, state);
    }
    return state;
  }

  private setState(ws: WebSocket, state: SocketState): void {
    this.states.set(ws, state);
    ws.serializeAttachment(state);
  }
}
