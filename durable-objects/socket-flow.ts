import { markFrameText } from "../protocol/frames.ts";

/** A mark's id: 64 random bits, which no client guesses without reading the frame. */
function randomMarkId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let id = "";
  for (const byte of bytes) id += byte.toString(16).padStart(2, "0");
  return id;
}

/**
 * What one socket was sent on this connection and how much of it the client proved it read, in
 * characters. The proof is a mark: a frame with a random id the server puts into the stream after
 * every `markEvery` characters (and whenever it stops sending); `ack:<id>` counts everything up to
 * that mark as read. Forged or stale ids (a mark from before the object was evicted) change
 * nothing, so a client that acknowledges what it never read is held to the same bound as one that
 * does not acknowledge at all. Kept in memory only: after an eviction counting starts again.
 */
export class SocketFlow {
  sent = 0;
  acked = 0;
  /** A replay loop is running for this socket. */
  pumping = false;
  /** When sending stopped for lack of acks; null while sending. */
  stoppedAt: number | null = null;
  /** Marks sent and not yet acknowledged, oldest first: at most the limit over `markEvery`, plus one. */
  private readonly marks: { id: string; at: number }[] = [];
  private nextMarkAt: number;

  constructor(
    private readonly markEvery: number,
    private readonly newId: () => string = randomMarkId,
  ) {
    this.nextMarkAt = markEvery;
  }

  get unacked(): number {
    return this.sent - this.acked;
  }

  /** Counts a frame sent; answers the mark frame to send right after it when one is due. */
  counted(chars: number): string | null {
    this.sent += chars;
    return this.sent >= this.nextMarkAt ? this.mark() : null;
  }

  /** A mark covering everything sent so far, for when sending stops; null if one already does. */
  markAll(): string | null {
    if (this.sent === this.acked || this.marks.at(-1)?.at === this.sent) return null;
    return this.mark();
  }

  /** The client read up to mark `id`: true if that mark was sent on this connection and not yet acknowledged. */
  ack(id: string): boolean {
    const index = this.marks.findIndex((mark) => mark.id === id);
    if (index < 0) return false;
    this.acked = Math.max(this.acked, this.marks[index].at);
    this.marks.splice(0, index + 1);
    return true;
  }

  private mark(): string {
    const id = this.newId();
    const text = markFrameText(id);
    this.sent += text.length;
    this.marks.push({ id, at: this.sent });
    this.nextMarkAt = this.sent + this.markEvery;
    return text;
  }
}
