import type { HubAttach, HubAttachResult, HubPush, HubPushResult } from "./hub-rpc.ts";
import type { LogPosition, StoredRow } from "./log-store.ts";
import {
  type Link,
  newLink,
  Outbox,
  PUSH_LIMITS,
  type PushPlan,
  planPush,
  settle,
  takeRows,
  trimmedOldest,
} from "./push-planner.ts";

/** While some hub does not hold the head, the topic's alarm checks the hubs this often. */
export const HUB_SYNC_MS = 10_000;
/** After the topic object restarts with hubs attached, it asks them where they stand this soon. */
export const HUB_RESTART_PROBE_MS = 1_000;

/** Sends one push to a hub (an RPC to its object); throws when the hub cannot take it now. */
export type HubSender = (hub: string, push: HubPush) => Promise<HubPushResult>;

/** The parts of the topic's log pushes read. */
export interface FanoutLog {
  readonly head: number;
  position(): LogPosition;
  read(after: number, limit: number): StoredRow[];
}

/** The durable list of attached hubs (hub-registry.ts). */
export interface FanoutRegistry {
  list(): string[];
  attach(hub: string, now: number): void;
  remove(hub: string): void;
}

export interface FanoutOptions {
  log: FanoutLog;
  registry: FanoutRegistry;
  send: HubSender;
  /** The topic's name, as pushes carry it. */
  topic: () => string;
  /** Runs a retry later (setTimeout by default). */
  schedule?: (run: () => void, delayMs: number) => void;
  random?: () => number;
}

/**
 * Pushes each committed append once to every hub attached to the topic: the topic's work per
 * event grows with its hubs, never with their sockets. Each hub has one push in flight at most, so
 * its events arrive in order, and rows committed meanwhile go together in its next push.
 */
export class HubFanout {
  private readonly links = new Map<string, Link>();
  /** Sockets following the topic on each hub, as the hub said in its last answer to a push. */
  private readonly followers = new Map<string, number>();
  private readonly outbox = new Outbox();
  private generations = 0;
  private topicName = "";
  private epoch: string | null = null;

  constructor(private readonly options: FanoutOptions) {
    // After a restart no hub's position is known: the next push or the alarm's probe asks it.
    for (const hub of options.registry.list()) this.links.set(hub, newLink(hub, null, this.nextGeneration()));
  }

  /** Hubs attached now. */
  get count(): number {
    return this.links.size;
  }

  /** Rows held in memory for pushes. */
  get held(): number {
    return this.outbox.size;
  }

  /** Sockets following the topic on its hubs, as of each hub's last answer to a push (none before one). */
  get subscribers(): number {
    let sum = 0;
    for (const count of this.followers.values()) sum += count;
    return sum;
  }

  /** Pushes freshly committed rows (contiguous, ascending) to every hub not busy or backing off. */
  publish(rows: readonly StoredRow[]): void {
    if (this.links.size === 0) {
      // Nobody to push to: hold nothing; a hub that attaches later is served from the log.
      this.outbox.clear();
      return;
    }
    this.outbox.append(rows);
    for (const link of this.links.values()) {
      if (!link.inFlight && link.retry === null) void this.pump(link);
    }
  }

  /**
   * Registers a hub and starts pushing to it. Its position is read in the same step as the head, so
   * the hub misses nothing: from what it already holds (same epoch), else from the head now.
   */
  attach({ hub, known }: HubAttach, now: number): HubAttachResult {
    this.options.registry.attach(hub, now);
    const { epoch, head, oldest } = this.options.log.position();
    let link = this.links.get(hub);
    if (!link) {
      link = newLink(hub, null, 0);
      this.links.set(hub, link);
    }
    link.generation = this.nextGeneration();
    link.acked = known && known.epoch === epoch ? Math.min(known.head, head) : head;
    link.failures = 0;
    link.retry = null;
    if (!link.inFlight) void this.pump(link);
    return { epoch, head, oldest };
  }

  detach(hub: string): void {
    this.options.registry.remove(hub);
    this.links.delete(hub);
    this.followers.delete(hub);
    if (this.links.size === 0) this.outbox.clear();
    else this.release();
  }

  /**
   * The alarm's check: probes every hub whose position is unknown, pushes to every hub behind
   * (those retrying on the alarm included) and waits for them to settle. True when every hub holds
   * the head: nothing is left for the alarm to look at.
   */
  async sync(): Promise<boolean> {
    const runs: Promise<void>[] = [];
    for (const link of this.links.values()) {
      if (link.inFlight || (link.retry !== null && link.retry !== "alarm")) continue;
      link.retry = null;
      runs.push(this.pump(link, true));
    }
    await Promise.all(runs);
    const head = this.options.log.head;
    return [...this.links.values()].every((link) => link.acked !== null && link.acked >= head);
  }

  /** Sends to one hub until it holds the head, it is dropped, or a push fails (then a retry is planned). */
  private async pump(link: Link, probe = false): Promise<void> {
    while (!link.inFlight && this.links.get(link.hub) === link) {
      const head = this.options.log.head;
      const plan = planPush(link.acked, head, this.outbox.first, probe);
      if (plan.kind === "idle") return;
      probe = false;
      const push = this.build(plan, head);
      const sent = { generation: link.generation, prev: push.prev };
      link.inFlight = true;
      let answer: HubPushResult | Error;
      try {
        answer = await this.options.send(link.hub, push);
      } catch (error) {
        answer = error instanceof Error ? error : new Error(String(error));
      }
      link.inFlight = false;
      // Detached while the push was out: the answer concerns nobody.
      if (this.links.get(link.hub) !== link) return;
      if (!(answer instanceof Error) && answer.ok) this.followers.set(link.hub, answer.subscribers);
      const step = settle(link, sent, answer, this.options.random);
      if (step.kind === "drop") {
        this.detach(link.hub);
        return;
      }
      if (step.kind === "retry") {
        link.failures = step.failures;
        this.retryLater(link, step.delayMs);
        return;
      }
      link.failures = 0;
      link.acked = step.acked;
      this.release();
    }
  }

  /**
   * Lets go of the rows every hub of known position holds; later pushes to it start after them.
   * A hub whose position is unknown (the topic restarted) does not hold rows back: it answers
   * `behind` and is sent the rest from the log, like a hub whose rows left the Outbox by its limits.
   */
  private release(): void {
    let held = Number.POSITIVE_INFINITY;
    for (const link of this.links.values()) if (link.acked !== null) held = Math.min(held, link.acked);
    if (held !== Number.POSITIVE_INFINITY) this.outbox.release(held);
  }

  private build(plan: Extract<PushPlan, { kind: "send" }>, head: number): HubPush {
    const push: HubPush = { topic: this.topic(), epoch: this.currentEpoch(), prev: plan.prev, rows: [], head };
    if (plan.source === "outbox") {
      push.rows = this.outbox.after(plan.prev, PUSH_LIMITS);
    } else if (plan.source === "log") {
      push.rows = takeRows(this.options.log.read(plan.prev, PUSH_LIMITS.maxRows), PUSH_LIMITS);
      const oldest = trimmedOldest(plan.prev, push.rows, head);
      if (oldest !== undefined) push.oldest = oldest;
    }
    return push;
  }

  private retryLater(link: Link, delayMs: number | null): void {
    if (delayMs === null) {
      link.retry = "alarm";
      return;
    }
    const retry = { dueAt: Date.now() + delayMs };
    link.retry = retry;
    const schedule = this.options.schedule ?? ((run, ms) => setTimeout(run, ms));
    schedule(() => {
      // A re-attach, a later failure or a detach has replaced this retry.
      if (link.retry !== retry || this.links.get(link.hub) !== link) return;
      link.retry = null;
      void this.pump(link);
    }, delayMs);
  }

  private topic(): string {
    if (!this.topicName) this.topicName = this.options.topic();
    return this.topicName;
  }

  /** A log's epoch never changes while its object lives, so it is read once. */
  private currentEpoch(): string {
    this.epoch ??= this.options.log.position().epoch;
    return this.epoch;
  }

  private nextGeneration(): number {
    this.generations += 1;
    return this.generations;
  }
}
