import { isErrorCode } from "../protocol/error-codes.ts";
import { type PublishedFrame, publishFrameText } from "../protocol/frames.ts";
import { PublishError } from "./publish-error.ts";
import type { SubscriptionError } from "./transport.ts";

/** The answer to one event published on the shared connection. */
export interface SocketPublishResult {
  id: string;
  source: string;
  /** Its position in the topic (the original one when it was a duplicate). */
  seq: number;
  /** True when its `(source, id)` was already stored: nothing new was stored. */
  duplicate: boolean;
}

/** An event ready to send: `id` and `source` are filled, so every copy sent is the same event. */
export interface FilledEvent {
  id: string;
  source: string;
  [attribute: string]: unknown;
}

interface Pending {
  event: FilledEvent;
  text: string;
  /** Times the frame was sent: once per connection it was open on until answered. */
  sends: number;
  resolve: (result: SocketPublishResult) => void;
  reject: (error: PublishError) => void;
}

/**
 * The publishes of one connection that have no answer yet. A frame is sent when the socket is
 * open, and every unanswered one is sent again on each new connection with the same event, so an
 * answer lost with a connection costs nothing: the server's dedup by `(source, id)` stores the
 * event once and answers the repeat with the original seq.
 */
export class PublishLedger {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  get size(): number {
    return this.pending.size;
  }

  /** Registers one event for `topic`; `send` is called now if the socket is open (answers false if not). */
  add(topic: string, event: FilledEvent, send: (text: string) => boolean): Promise<SocketPublishResult> {
    this.counter += 1;
    const id = `p${this.counter}`;
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        event,
        text: publishFrameText({ id, topic, events: [event] }),
        sends: 0,
        resolve,
        reject,
      };
      this.pending.set(id, entry);
      if (send(entry.text)) entry.sends += 1;
    });
  }

  /** A new connection opened: every unanswered publish goes out on it, in the order they were made. */
  resend(send: (text: string) => boolean): void {
    for (const entry of this.pending.values()) if (send(entry.text)) entry.sends += 1;
  }

  /** The server's answer: settles its publish; false when it answers none pending (answered already). */
  answer(frame: PublishedFrame): boolean {
    const entry = this.pending.get(frame.id);
    if (!entry) return false;
    this.pending.delete(frame.id);
    const outcome = frame.results[0];
    if (outcome === undefined) {
      entry.reject(new PublishError("internal", "the server answered without a result", null, {}, entry.sends));
    } else if ("error" in outcome) {
      const { code, message } = outcome.error;
      entry.reject(new PublishError(isErrorCode(code) ? code : "internal", message, null, {}, entry.sends));
    } else {
      entry.resolve({ id: entry.event.id, source: entry.event.source, ...outcome });
    }
    return true;
  }

  /** The connection stopped for good (or the client closed it): nothing pending will be answered. */
  failAll(error: Pick<SubscriptionError, "code" | "message">): void {
    const code = isErrorCode(error.code) ? error.code : "network_error";
    for (const entry of this.pending.values()) {
      entry.reject(new PublishError(code, error.message, null, {}, entry.sends));
    }
    this.pending.clear();
  }
}
