import type { Occupancy } from "../protocol/presence.ts";
import type { Follower, NumberedDelta, PresenceDelta } from "./presence-store.ts";

/** What the presence object pushes to a hub: the changes since its last push, and the counts now. */
export interface PresencePush {
  topic: string;
  changes: PresenceDelta[];
  occupancy: Occupancy;
  /**
   * Changes before these were never sent to the hub (the presence object restarted with pushes
   * not yet sent): its followers' lists are stale and are sent again.
   */
  resync: boolean;
}

/** The hub's answer: `following` false when none of its sockets follows the topic's presence any more. */
export interface PresencePushResult {
  following: boolean;
}

export type PresencePushSender = (hub: string, push: PresencePush) => Promise<PresencePushResult>;

/**
 * A hub whose sockets follow the counts only is pushed at most this often: in a large room the
 * counts change all the time, and a count a second is what a page shows.
 */
export const OCCUPANCY_INTERVAL_MS = 1_000;

interface Outbox {
  changes: NumberedDelta[];
  /** Set when the hub's followers want the changes, not only the counts. */
  members: boolean;
  sending: boolean;
  dirty: boolean;
  /** When the last push to the hub went. */
  sentAt: number;
  /** The last change the hub was sent (kept in the followers table too). */
  delivered: number;
}

/**
 * Sends presence changes to the hubs that follow a topic's presence, one push in flight per hub:
 * what changes meanwhile goes together in the next push, with the counts as they are then. So a
 * burst of joins costs a hub a few pushes, and a counts-only hub gets one occupancy per push
 * however many changed, at most one per `OCCUPANCY_INTERVAL_MS`. A hub whose push fails is sent the next change again; its sockets, if it
 * restarted, were closed and get a fresh list when they subscribe again.
 */
export class PresenceFanout {
  private readonly outboxes = new Map<string, Outbox>();

  constructor(
    private readonly topic: () => string,
    private readonly state: () => { occupancy: Occupancy; rev: number },
    private readonly send: PresencePushSender,
    private readonly hubs: { forget(hub: string): void; delivered(hub: string, rev: number): void },
    private readonly intervalMs = OCCUPANCY_INTERVAL_MS,
  ) {}

  /** Queues `changes` (possibly none: a counts change only) for every follower hub. */
  publish(followers: readonly Follower[], changes: readonly NumberedDelta[]): void {
    for (const { hub, members, delivered } of followers) {
      let box = this.outboxes.get(hub);
      if (!box) {
        box = { changes: [], members, sending: false, dirty: false, sentAt: 0, delivered };
        this.outboxes.set(hub, box);
      }
      box.members ||= members;
      if (box.members) box.changes.push(...changes);
      box.dirty = true;
      if (!box.sending) void this.drain(hub, box);
    }
  }

  private async drain(hub: string, box: Outbox): Promise<void> {
    box.sending = true;
    try {
      while (box.dirty) {
        const wait = box.members ? 0 : box.sentAt + this.intervalMs - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        box.sentAt = Date.now();
        const changes = box.changes;
        box.changes = [];
        box.dirty = false;
        const { occupancy, rev } = this.state();
        // Every change up to `rev` is queued by now: the push covers (first, rev].
        const first = changes.length > 0 ? changes[0].rev - 1 : rev;
        const resync = box.members && box.delivered < first;
        try {
          const result = await this.send(hub, {
            topic: this.topic(),
            changes: changes.map(({ rev: _rev, ...change }) => change),
            occupancy,
            resync,
          });
          if (!result.following) {
            this.hubs.forget(hub);
            this.outboxes.delete(hub);
            return;
          }
          if (rev > box.delivered) {
            box.delivered = rev;
            this.hubs.delivered(hub, rev);
          }
        } catch {
          // The hub could not be reached: its sockets went with it, or the next change retries.
        }
      }
    } finally {
      box.sending = false;
    }
  }
}
