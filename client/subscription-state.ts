/**
 * The pure core of a subscription: its connection state machine and the resume cursor that
 * decides, for each frame, whether to deliver, drop or resynchronise. No sockets or timers here,
 * so every rule is testable alone.
 */

/**
 * - `connecting`: first connection attempt, nothing received yet
 * - `replaying`: connected; stored events after `lastSeq` are arriving
 * - `live`: caught up with the head; events arrive as they are published
 * - `reconnecting`: the connection dropped; waiting (with backoff) or connecting again
 * - `closed`: closed by the app or refused for good by the server; nothing more happens
 */
export type SubscriptionState = "connecting" | "replaying" | "live" | "reconnecting" | "closed";

/** What can happen to a subscription's connection. */
export type ConnectionInput =
  /** A socket opened; the server starts replaying. */
  | "open"
  /** The replay reached the head. */
  | "caught-up"
  /** The socket closed or is being replaced; a reconnect follows. */
  | "drop"
  /** The server refused with a terminal close code. */
  | "terminal"
  /** The app closed the subscription. */
  | "close";

export function nextState(state: SubscriptionState, input: ConnectionInput): SubscriptionState {
  if (state === "closed") return "closed";
  switch (input) {
    case "open":
      return state === "connecting" || state === "reconnecting" ? "replaying" : state;
    case "caught-up":
      return state === "replaying" ? "live" : state;
    case "drop":
      return "reconnecting";
    case "terminal":
    case "close":
      return "closed";
  }
}

/** `deliver`: new and in order; `duplicate`: already handled; `hole`: events are missing before it. */
export type EventDecision = "deliver" | "duplicate" | "hole";

/**
 * Where a subscription stands in its topic: the last seq handed to the app and the topic's epoch.
 * An unfiltered subscription sees every seq, so any jump is a hole; a filtered one sees only its
 * types, so jumps are normal and only order and duplicates are checked.
 */
export class ResumeCursor {
  constructor(
    public lastSeq: number,
    public epoch: string | undefined,
    private readonly filtered: boolean,
  ) {}

  /** Decides about an event frame; advances `lastSeq` when the event is delivered. */
  event(seq: number): EventDecision {
    if (seq <= this.lastSeq) return "duplicate";
    if (!this.filtered && seq !== this.lastSeq + 1) return "hole";
    this.lastSeq = seq;
    return "deliver";
  }

  /**
   * A gap frame: the events before `oldest` are gone (retention) or belong to an old epoch, so
   * the subscription continues from `oldest - 1`, lower than before when the epoch changed.
   */
  gap(oldest: number, epoch: string): void {
    this.lastSeq = oldest - 1;
    this.epoch = epoch;
  }

  /**
   * The caught-up frame names the head. An unfiltered subscription behind it missed events
   * (`hole`); a filtered one moves up to it, since nothing in between matched its types.
   */
  caughtUp(head: number, epoch: string): "ok" | "hole" {
    this.epoch = epoch;
    if (head > this.lastSeq) {
      if (!this.filtered) return "hole";
      this.lastSeq = head;
    }
    return "ok";
  }
}
