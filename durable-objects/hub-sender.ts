import { CLOSE } from "../protocol/close-codes.ts";
import { EVENTS_FRAME_CHARS, eventFrameText } from "../protocol/frames.ts";
import type { Session } from "./hub-sessions.ts";
import { eventsText, frameEnd } from "./live-frames.ts";
import type { StoredRow } from "./log-store.ts";

/** How far one socket may fall behind: the same bounds as a one-topic socket. */
export interface FlowBounds {
  /** Characters sent and not yet acknowledged at which sending stops. */
  maxUnackedChars: number;
  /** A stopped socket with no ack for this long is closed with 1013 (try again later). */
  stallMs: number;
}

/**
 * Sends frames to a hub's sockets under flow control, one allowance per socket across all the
 * topics it follows (see socket-flow.ts): every frame is counted, a mark follows every so often,
 * and a socket past its allowance is sent nothing more until it acknowledges.
 */
export class HubSender {
  constructor(readonly bounds: FlowBounds) {}

  send(session: Session, text: string): void {
    session.ws.send(text);
    const mark = session.flow.counted(text.length);
    if (mark !== null) session.ws.send(mark);
  }

  /** Sends a JSON frame, unless the socket is closing (its client resumes from its own cursor). */
  frame(session: Session, frame: object): void {
    try {
      this.send(session, JSON.stringify(frame));
    } catch {
      // Closing: nothing more can be sent.
    }
  }

  /** The socket may be sent more now. */
  open(session: Session): boolean {
    return session.flow.unacked < this.bounds.maxUnackedChars;
  }

  /** Half the allowance is free again: a stopped replay restarts (not on every single ack). */
  drained(session: Session): boolean {
    return session.flow.unacked <= this.bounds.maxUnackedChars / 2;
  }

  /**
   * Sends stored rows of one topic as event frames (or events frames for a socket that batches)
   * while the allowance lasts; answers how many were sent.
   */
  rows(session: Session, topicJson: string, rows: readonly StoredRow[]): number {
    const { flow } = session;
    const max = this.bounds.maxUnackedChars;
    let sent = 0;
    while (sent < rows.length && flow.unacked < max) {
      if (!session.batch) {
        this.send(session, eventFrameText(topicJson, rows[sent].body));
        sent += 1;
        continue;
      }
      const end = frameEnd(rows, sent, Math.min(EVENTS_FRAME_CHARS, max - flow.unacked));
      this.send(session, eventsText(topicJson, rows, sent, end));
      sent = end;
    }
    return sent;
  }

  /** Sending stops for lack of acks: a last mark lets the client acknowledge everything it was sent. */
  stop(session: Session, now: number): void {
    session.flow.stoppedAt ??= now;
    const mark = session.flow.markAll();
    if (mark === null) return;
    try {
      session.ws.send(mark);
    } catch {
      // Closing: nothing more can be sent.
    }
  }

  closeIfStalled(session: Session, now: number): void {
    const { stoppedAt } = session.flow;
    if (stoppedAt === null || now - stoppedAt < this.bounds.stallMs) return;
    try {
      session.ws.close(CLOSE.tryAgainLater, "too far behind: resume from your cursor");
    } catch {
      // Already closing.
    }
  }
}
