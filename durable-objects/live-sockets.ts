import { CLOSE } from "../protocol/close-codes.ts";
import type { CaughtUpFrame, ErrorFrame, GapFrame } from "../protocol/frames.ts";
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
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const position = this.store.position();
    let cursor = params.after;
    const frames: string[] = [];
    if (params.epoch !== undefined && params.epoch !== position.epoch) {
      cursor = Math.max(0, position.oldest - 1);
      frames.push(JSON.stringify(gapFrame(params, position.oldest, position.epoch, "epoch")));
    } else if (cursor > position.head) {
      const error: ErrorFrame = {
        type: "error",
        code: "cursor_ahead",
        message: `after=${cursor} is beyond the head of the topic (${position.head})`,
      };
      server.send(JSON.stringify(error));
      server.close(CLOSE.cursorAhead, "cursor_ahead");
      return new Response(null, { status: 101, webSocket: client });
    } else if (cursor < position.oldest - 1) {
      frames.push(JSON.stringify(gapFrame(params, position.oldest, position.epoch, "retention")));
      cursor = position.oldest - 1;
    }
    this.setState(server, { topic: params.topic, mode: "replaying", cursor, types: params.types });
    for (const frame of frames) server.send(frame);
    void this.replay(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends stored pages until the head is reached, yielding between pages so appends interleave. */
  private async replay(ws: WebSocket): Promise<void> {
    const topicJson = JSON.stringify(this.state(ws).topic);
    for (;;) {
      const state = this.state(ws);
      if (ws.readyState !== WebSocket.OPEN) return;
      const rows = this.store.read(state.cursor, this.pageSize, state.types);
      for (const row of rows) ws.send(eventFrameText(topicJson, row.body));
      if (rows.length < this.pageSize) {
        const { head, epoch } = this.store.position();
        this.setState(ws, { ...state, mode: "live", cursor: head });
        const caughtUp: CaughtUpFrame = { type: "caught-up", topic: state.topic, head, epoch };
        ws.send(JSON.stringify(caughtUp));
        return;
      }
      this.setState(ws, { ...state, cursor: rows[rows.length - 1].seq });
      await yieldToEventLoop();
    }
  }

  /** Sends freshly appended events to every live socket; each frame is serialized once. */
  broadcast(topic: string, rows: StoredRow[]): void {
    if (rows.length === 0) return;
    const topicJson = JSON.stringify(topic);
    const frames = rows.map((row) => eventFrameText(topicJson, row.body));
    for (const ws of this.ctx.getWebSockets()) {
      const state = this.state(ws);
      if (state.mode !== "live") continue;
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

  private state(ws: WebSocket): SocketState {
    let state = this.states.get(ws);
    if (!state) {
      state = ws.deserializeAttachment() as SocketState;
      this.states.set(ws, state);
    }
    return state;
  }

  private setState(ws: WebSocket, state: SocketState): void {
    this.states.set(ws, state);
    ws.serializeAttachment(state);
  }
}

function gapFrame(params: SubscribeParams, oldest: number, epoch: string, reason: GapFrame["reason"]): GapFrame {
  return { type: "gap", topic: params.topic, after: params.after, oldest, epoch, reason };
}
