/**
 * Which frames of a topic on a shared socket belong to the newest `subscribe` the client sent.
 * The server answers each subscribe in order, with `subscribed` or a refusal (`unsubscribed` with
 * a code), and a subscribe replaces the topic's subscription: frames that arrive before the answer
 * to the newest one belong to a subscription already replaced and are ignored. A new connection
 * starts with an empty ledger.
 */
export class SubscribeLedger {
  private readonly topics = new Map<string, { sent: number; answered: number }>();

  reset(): void {
    this.topics.clear();
  }

  /** A subscribe went out for `topic`. */
  sent(topic: string): void {
    const counts = this.topics.get(topic);
    if (counts) counts.sent += 1;
    else this.topics.set(topic, { sent: 1, answered: 0 });
  }

  /** Whether `topic` was subscribed on this connection and not refused for good since. */
  followed(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** The server stopped following `topic` for good (a terminal refusal). */
  forget(topic: string): void {
    this.topics.delete(topic);
  }

  /** A `subscribed` frame; true when it starts the newest subscription. */
  subscribed(topic: string): boolean {
    const counts = this.topics.get(topic);
    if (!counts || counts.answered >= counts.sent) return false;
    counts.answered += 1;
    return counts.answered === counts.sent;
  }

  /**
   * A refusal (`unsubscribed` with a code); true when it concerns the newest subscription: the
   * answer to the newest subscribe, or the server ending the subscription it had started.
   */
  refused(topic: string): boolean {
    const counts = this.topics.get(topic);
    if (!counts) return false;
    if (counts.answered < counts.sent) counts.answered += 1;
    return counts.answered === counts.sent;
  }

  /** True when frames of `topic` now belong to the newest subscription. */
  current(topic: string): boolean {
    const counts = this.topics.get(topic);
    return counts !== undefined && counts.answered === counts.sent;
  }
}
