import { ACK_EVERY_CHARS, ackFrame, HEARTBEAT_PONG } from "../../protocol/frames.ts";

/**
 * The mesh's flow control, client side, as its own client does it: count the characters of every
 * frame read on the connection (pongs excepted) and say so with `ack:<n>` every ACK_EVERY_CHARS.
 * Without acks the mesh stops sending to a socket once too much is unacknowledged.
 */
export class AckCounter {
  private received = 0;
  private acked = 0;

  constructor(private readonly send: (text: string) => void) {}

  read(text: string): void {
    if (text === HEARTBEAT_PONG) return;
    this.received += text.length;
    if (this.received - this.acked >= ACK_EVERY_CHARS) {
      this.acked = this.received;
      this.send(ackFrame(this.received));
    }
  }
}
