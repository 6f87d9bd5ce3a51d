import type { CaughtUpFrame, GapFrame } from "../protocol/frames.ts";
import { refuseSocket } from "../worker/socket-refusal.ts";
import type { LogStore, StoredRow } from "./log-store.ts";

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
}

export interface SubscribeParams {
  topic: string;
  after: number;
  types?: string[];
  epoch?: string;
}

/** The text of an event frame, built from the stored JSON without parsing it again. */
export function eventFrameText(topicJson: string, body: string): string {
  return `{"type":"event","topic":${topicJson},"event":${body}}`;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The live side of a topic: accepts hibernatable WebSockets, replays `after+1 … head` in bounded
 * pages, then streams appends. The seam between replay and live is exact because the DO is single
 * threaded: the last page read and the switch to `live` happen in one synchronous step, so an
 * append lands either in that page or in the broadcast that follows it, never in both or neither.
 */
export class LiveSockets {
  private readonly states = new WeakMap<WebSocket, SocketState>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly store: LogStore,
    private readonly pageSize: number,
  ) {}

  accept(params: SubscribeParams): Response {
    const position = this.store.position();
    if ((params.epoch === undefined || params.epoch === position.epoch) && params.after > position.head) {
      return refuseSocket("cursor_ahead", `after=${params.after} is beyond the head of the topic (${position.head})`);
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    // An empty filter would match nothing live but everything in replay: treat it as no filter.
    const types = params.types && params.types.length > 0 ? params.types : undefined;
    let cursor = params.after;
    let gap: GapFrame | null = null;
    if (params.epoch !== undefined && params.epoch !== position.epoch) {
      // The log was reset: the old cursor means nothing here, so start over from the oldest event.
      cursor = position.oldest - 1;
      gap = gapFrame(params.topic, params.after, position.oldest, position.epoch, "epoch");
    } else if (cursor < position.oldest - 1) {
      cursor = position.oldest - 1;
      gap = gapFrame(params.topic, params.after, position.oldest, position.epoch, "retention");
    }
    this.setState(server, { topic: params.topic, mode: "replaying", cursor, types });
    if (gap) server.send(JSON.stringify(gap));
    void this.replay(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends stored pages until the head is reached, yielding between pages so appends interleave. */
  private async replay(ws: WebSocket): Promise<void> {
    try {
      for (;;) {
        let state = this.state(ws);
        if (!state || ws.readyState !== WebSocket.OPEN) return;
        const position = this.store.position();
        if (state.cursor < position.oldest - 1) {
          // Retention trimmed the log between two pages: say so instead of skipping silently.
          ws.send(JSON.stringify(gapFrame(state.topic, state.cursor, position.oldest, position.epoch, "retention")));
          state = { ...state, cursor: position.oldest - 1 };
        }
        const rows = this.store.read(state.cursor, this.pageSize, state.types);
        const topicJson = JSON.stringify(state.topic);
        for (const row of rows) ws.send(eventFrameText(topicJson, row.body));
        if (rows.length < this.pageSize) {
          // Same synchronous step as the last read: no append can fall between it and going live.
          this.setState(ws, { ...state, mode: "live", cursor: position.head });
          const caughtUp: CaughtUpFrame = {
            type: "caught-up",
            topic: state.topic,
            head: position.head,
            epoch: position.epoch,
          };
          ws.send(JSON.stringify(caughtUp));
          return;
        }
        this.setState(ws, { ...state, cursor: rows[rows.length - 1].seq });
        await yieldToEventLoop();
      }
    } catch {
      // The socket closed under the replay; its client resumes from its own cursor.
    }
  }

  /** Sends freshly appended events to every live socket; each frame is serialized once. */
  broadcast(topic: string, rows: StoredRow[]): void {
    if (rows.length === 0) return;
    const topicJson = JSON.stringify(topic);
    const frames = rows.map((row) => eventFrameText(topicJson, row.body));
    for (const ws of this.ctx.getWebSockets()) {
      const state = this.state(ws);
      if (state?.mode !== "live" || ws.readyState !== WebSocket.OPEN) continue;
      for (let i = 0; i < rows.length; i++) {
        if (state.types && !state.types.includes(rows[i].type)) continue;
        try {
          ws.send(frames[i]);
        } catch {
          // A socket that is closing cannot be written; its client resumes from its own cursor.
        }
      }
    }
  }

  get count(): number {
    return this.ctx.getWebSockets().length;
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

function gapFrame(topic: string, after: number, oldest: number, epoch: string, reason: GapFrame["reason"]): GapFrame {
  return { type: "gap", topic, after, oldest, epoch, reason };
}
