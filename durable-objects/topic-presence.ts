import { DurableObject } from "cloudflare:workers";
import type { Occupancy } from "../protocol/presence.ts";
import type { Env } from "../runtime/env.ts";
import { logLine } from "../runtime/log.ts";
import { PresenceFanout, type PresencePush, type PresencePushResult } from "./presence-fanout.ts";
import { nextAlarm } from "./presence-rules.ts";
import { type ConnPlace, type PresenceDelta, PresenceStore } from "./presence-store.ts";

/** A page of the member list, each member's data as JSON text. */
export interface PresenceMembersPage {
  occupancy: Occupancy;
  members: { member: string; data: string }[];
  next: string | null;
}

/**
 * One topic's presence, the one truth of who is here however many hubs hold its sockets. Hubs
 * report each connection that enters, updates, leaves or goes; this object keeps them in its
 * SQLite, pushes each change to the hubs whose sockets follow the topic's presence, and from its
 * alarm ends the connections whose linger ran out and asks each hub which of its connections it
 * still holds (a hub that restarted holds none). Bounds: docs/architecture.md#presence.
 */
export class TopicPresence extends DurableObject<Env> {
  private readonly store: PresenceStore;
  private readonly fanout: PresenceFanout;
  private armedAt: number | null | undefined = undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new PresenceStore(ctx.storage.sql);
    this.fanout = new PresenceFanout(
      () => this.store.getMeta("topic") ?? "",
      () => ({ occupancy: this.store.occupancy, rev: this.store.rev }),
      (hub, push) => hubStub(env, hub).presencePush(push),
      { forget: (hub) => this.store.unfollow(hub), delivered: (hub, rev) => this.store.delivered(hub, rev) },
    );
  }

  async enter(topic: string, member: string, session: string, place: ConnPlace, data: string | null): Promise<void> {
    this.name(topic);
    const change = this.store.enter(member, session, place, data);
    this.changed(change ? [change] : [], true);
    await this.arm();
  }

  async update(
    topic: string,
    member: string,
    session: string,
    place: ConnPlace,
    data: string,
  ): Promise<{ ok: boolean }> {
    this.name(topic);
    const change = this.store.update(member, session, place, data);
    if (change === "not_entered") return { ok: false };
    if (change) this.changed([change]);
    return { ok: true };
  }

  async leave(topic: string, member: string, session: string, place: ConnPlace): Promise<void> {
    this.name(topic);
    const change = this.store.leave(member, session, place);
    this.changed(change ? [change] : [], true);
    await this.arm();
  }

  /** A hub's sockets closed: their connections linger, and leave when a reconnect does not revive them. */
  async gone(topic: string, hub: string, sids: string[]): Promise<void> {
    this.name(topic);
    this.store.gone(hub, sids, Date.now());
    await this.arm();
  }

  /** A hub follows the topic's presence: changes are pushed to it from now on; answers the counts. */
  async follow(topic: string, hub: string, members: boolean): Promise<Occupancy> {
    this.name(topic);
    this.store.follow(hub, members);
    return this.store.occupancy;
  }

  /** The counts and a page of members after `cursor`, in member order. */
  async members(_topic: string, cursor: string, limit: number): Promise<PresenceMembersPage> {
    // A read writes nothing: asking about a topic nobody is on costs no storage.
    return { occupancy: this.store.occupancy, ...this.store.page(cursor, limit) };
  }

  /** Ends lingering connections whose time ran out, then asks each hub which connections it still holds. */
  override async alarm(): Promise<void> {
    this.armedAt = null;
    const topic = this.store.getMeta("topic");
    if (topic === null) return;
    this.changed(this.store.expire(Date.now()), true);
    for (const [hub, sids] of this.store.heldSockets()) {
      try {
        const { gone } = await hubStub(this.env, hub).presenceHeld(topic, sids);
        if (gone.length > 0) this.store.gone(hub, gone, Date.now());
      } catch (error) {
        // Asked again at the next check; a hub that restarted answers then.
        logLine("presence check failed", { topic, hub, error: String(error) });
      }
    }
    await this.arm();
  }

  private changed(changes: PresenceDelta[], countsMayChange = false): void {
    if (changes.length === 0 && !countsMayChange) return;
    this.fanout.publish(this.store.followers(), this.store.number(changes));
  }

  private name(topic: string): void {
    if (this.store.getMeta("topic") === null) this.store.setMeta("topic", topic);
  }

  private async arm(): Promise<void> {
    if (this.armedAt === undefined) this.armedAt = await this.ctx.storage.getAlarm();
    const due = nextAlarm(this.store.firstGoneAt(), this.store.anyLive, Date.now());
    // A sooner due time moves the alarm; a later one waits for the alarm, which arms again.
    if (due === null || (this.armedAt !== null && this.armedAt <= due)) return;
    this.armedAt = due;
    await this.ctx.storage.setAlarm(due);
  }
}

/** The hub named `hub`, as the presence object reaches it. */
function hubStub(env: Env, hub: string): DurableObjectStub<import("./socket-hub.ts").SocketHub> {
  return env.SOCKET_HUB.get(env.SOCKET_HUB.idFromName(hub));
}

export type { PresencePush, PresencePushResult };
