import { ackFrame, markIdOf } from "../../protocol/frames.ts";

/**
 * The mesh's flow control, client side, as its own client does it: answer each mark frame read
 * with `ack:<id>`. Without acks the mesh stops sending to a socket once too much is unacknowledged.
 */
export class MarkAcks {
  constructor(private readonly send: (text: string) => void) {}

  read(text: string): void {
    const id = markIdOf(text);
    if (id !== null) this.send(ackFrame(id));
  }
}
