import type {
  Occupancy,
  OccupancyFrame,
  PresenceEventFrame,
  PresenceFrame,
  PresenceMember,
  PresenceRefusedFrame,
} from "../protocol/presence.ts";

/** The presence frames a follower of a topic receives. */
export type PresenceServerFrame = PresenceFrame | PresenceEventFrame | OccupancyFrame;

/** True for the frames that belong to a topic's presence rather than its events. */
export function isPresenceFrame(frame: { type: string }): frame is PresenceServerFrame | PresenceRefusedFrame {
  return frame.type === "occupancy" || frame.type === "presence" || frame.type.startsWith("presence.");
}

/** What a follower knows of a topic's presence. */
export interface PresenceView {
  /** Members in member order with their data (empty in `count` mode). */
  members: PresenceMember[];
  occupancy: Occupancy;
  /** True once the whole member list (or the first counts) arrived since the last (re)connection. */
  synced: boolean;
}

/**
 * One topic's members as a follower sees them, built from the server's frames: a `presence` list
 * (page 0 starts it over, the last page completes it) and changes on top, which are idempotent
 * (a join sets, a leave deletes), so a change that also made it into a page does no harm.
 */
export class PresenceSet {
  private readonly members = new Map<string, unknown>();
  private occupancy: Occupancy = { members: 0, connections: 0 };
  private synced = false;

  /** Applies a frame; answers whether the view changed. */
  apply(frame: PresenceServerFrame): boolean {
    switch (frame.type) {
      case "presence":
        if (frame.page === 0) this.members.clear();
        for (const { member, data } of frame.members) this.members.set(member, data);
        return true;
      case "presence.join":
      case "presence.update":
        this.members.set(frame.member, frame.data ?? null);
        return true;
      case "presence.leave":
        return this.members.delete(frame.member);
      case "occupancy": {
        const changed =
          !this.synced || this.occupancy.members !== frame.members || this.occupancy.connections !== frame.connections;
        this.occupancy = { members: frame.members, connections: frame.connections };
        this.synced = true;
        return changed;
      }
    }
  }

  /** The connection dropped: what is shown stays until the next list replaces it. */
  dropped(): void {
    this.synced = false;
  }

  view(): PresenceView {
    const members = [...this.members]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([member, data]) => ({ member, data }));
    return { members, occupancy: { ...this.occupancy }, synced: this.synced };
  }
}
