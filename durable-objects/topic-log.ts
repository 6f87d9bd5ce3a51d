import { DurableObject } from "cloudflare:workers";
import type { AcceptedEvent } from "../protocol/mesh-event.ts";
import type { PublishedEvent, TopicInfo, TopicStats } from "../protocol/responses.ts";
import type { Rewind } from "../protocol/rewind.ts";
import type {
  RotateSecretRequest,
  SeekTarget,
  SubscriptionConfig,
  SubscriptionView,
} from "../protocol/subscriptions.ts";
import { type MeshConfig, readConfig } from "../runtime/config.ts";
import type { Env } from "../runtime/env.ts";
import { logLine } from "../runtime/log.ts";
import { dueCutoff, earliest } from "./delivery-planner.ts";
import { GroupCommit, type StepOutcome } from "./group-commit.ts";
import { HUB_RESTART_PROBE_MS, HUB_SYNC_MS, HubFanout, type HubSender } from "./hub-fanout.ts";
import { HubRegistry } from "./hub-registry.ts";
import type { HubAttach, HubAttachResult, HubReadPage } from "./hub-rpc.ts";
import { type AppendResult, LogStore } from "./log-store.ts";
import { PublishLog } from "./publish-log.ts";
import { Retention } from "./retention.ts";
import { rewindCursor, untilSeq } from "./rewind-plan.ts";
import type { SocketHub } from "./socket-hub.ts";
import type { DeadLetterPageRequest } from "./subscription-dead-letters.ts";
import { SubscriptionDispatcher } from "./subscription-dispatcher.ts";
import {
  type DeadLettersResult,
  type DeleteDeadLettersResult,
  type DeleteSubscriptionResult,
  type PutSubscriptionResult,
  type RedriveResult,
  type RotateSecretResult,
  type SeekResult,
  SubscriptionManager,
  type SubscriptionResult,
} from "./subscription-manager.ts";
import { SubscriptionStore } from "./subscription-store.ts";
import { topicDirectory } from "./topic-directory.ts";

export type PublishResult = { ok: true; events: PublishedEvent[] };

interface PublishCall {
  topic: string;
  events: AcceptedEvent[];
}

export type HistoryResult =
  | { ok: true; epoch: string; head: number; events: ArrayBuffer[]; next: number; more: boolean }
  | { ok: false; code: "cursor_expired" | "cursor_ahead"; oldest: number; head: number };

/** Where a history read starts and ends when it is given by count or time instead of a cursor. */
export interface HistoryRange {
  rewind?: Rewind;
  /** Epoch ms: the page ends with the last event stored at or before it. */
  until?: number;
}

/** A rewind resolved to a cursor of the log's current epoch. */
export interface RewindStart {
  epoch: string;
  after: number;
}

/** A page of the log for a hub; a cursor past the head was never handed out by this log. */
export type ReadPageResult = ({ ok: true } & HubReadPage) | { ok: false; code: "cursor_ahead"; head: number };

/**
 * One topic: its ordered log, the hubs it pushes to (they hold the topic's sockets), its durable
 * subscriptions and its alarm. Storage, pushes and delivery live in plain modules; this class only
 * wires them to the runtime.
 */
export class TopicLog extends DurableObject<Env> {
  private readonly config: MeshConfig;
  private readonly store: LogStore;
  private readonly subscriptionStore: SubscriptionStore;
  private readonly subscriptions: SubscriptionManager;
  private readonly dispatcher: SubscriptionDispatcher;
  private readonly retention: Retention;
  private readonly fanout: HubFanout;
  /** When the alarm next checks that every hub holds the head (`hubs_due`); null when none is owed. */
  private hubsDue: number | null;
  private readonly publishLog = new PublishLog();
  private readonly publishes = new GroupCommit<PublishCall, PublishResult>((calls) => this.commitPublishes(calls));
  private registered = false;
  /** The alarm's time as last set or read; undefined until read once. */
  private armedAt: number | null | undefined = undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = readConfig(env);
    this.store = new LogStore(ctx.storage.sql, ctx.storage);
    this.subscriptionStore = new SubscriptionStore(ctx.storage.sql, ctx.storage);
    this.retention = new Retention(
      this.store,
      {
        maxAgeSeconds: this.config.retentionMaxAgeSeconds,
        maxEvents: this.config.retentionMaxEvents,
        maxBytes: this.config.retentionMaxBytes,
        dedupWindowSeconds: this.config.dedupWindowSeconds,
        protectSubscriptions: this.config.retentionProtectSubscriptions,
      },
      () => this.subscriptionStore.floor(),
    );
    this.subscriptions = new SubscriptionManager(this.subscriptionStore, this.store);
    this.dispatcher = new SubscriptionDispatcher({
      store: this.subscriptionStore,
      log: this.store,
      env,
      topic: () => this.store.topic,
      arm: () => this.armAlarm(),
    });
    this.fanout = new HubFanout({
      log: this.store,
      registry: new HubRegistry(ctx.storage.sql),
      send: hubSender(env),
      topic: () => this.store.topic,
    });
    // Before hubs held sockets, the alarm enforced open sockets' token expiries here.
    if (this.store.getMeta("tokens_due") !== null) ctx.storage.sql.exec("DELETE FROM meta WHERE key = 'tokens_due'");
    const hubsDue = this.store.getMeta("hubs_due");
    this.hubsDue = hubsDue === null ? null : Number(hubsDue);
    // A restart may have come between a commit and its pushes: hubs are asked where they stand soon,
    // even if nothing is published.
    if (this.fanout.count > 0 && this.hubsDue === null) {
      this.setHubsDue(Date.now() + HUB_RESTART_PROBE_MS);
      void ctx.blockConcurrencyWhile(() => this.armAlarm());
    }
  }

  /**
   * Appends the events of one publish call atomically; answers once the write is durable. Calls
   * that arrive together are written together (group commit), each still all-or-nothing.
   */
  async publish(topic: string, events: AcceptedEvent[]): Promise<PublishResult> {
    await this.rememberTopic(topic, true);
    return this.publishes.submit({ topic, events });
  }

  /**
   * One write step for a group of publish calls: each call's append is its own transaction, in call
   * order, so seqs stay contiguous and a key seen earlier in the group is a duplicate; the counters,
   * pushes to hubs, timers and log line are done once for the group. The output gate holds every answer
   * until the step's writes are durable.
   */
  private async commitPublishes(calls: PublishCall[]): Promise<StepOutcome<PublishResult>[]> {
    const now = Date.now();
    const results = calls.map((call): StepOutcome<AppendResult> => {
      try {
        return { ok: true, value: this.store.append(call.events, now, this.config.dedupWindowSeconds) };
      } catch (error) {
        return { ok: false, error };
      }
    });
    const appended = results.flatMap((result) => (result.ok ? result.value.appended : []));
    if (appended.length > 0) {
      const topic = calls[0].topic;
      this.store.saveCounters();
      this.fanout.publish(appended);
      // Written with the append, so a crash before the pushes land still leaves the alarm owing them.
      if (this.fanout.count > 0 && this.hubsDue === null) this.setHubsDue(now + HUB_SYNC_MS);
      // A sleeping topic plans its first expiry; one past a count or byte limit trims right away.
      const trimDue = this.store.getMeta("trim_due");
      if (trimDue === null) this.setTrimDue(this.retention.nextAt(now));
      else if (Number(trimDue) > now && this.retention.overLimit()) this.setTrimDue(now);
      // Subscriptions that were caught up are due now: the alarm delivers right after this append.
      this.subscriptionStore.markDue(now);
      await this.armAlarm();
      const answered = results.reduce((n, result) => n + (result.ok ? result.value.outcomes.length : 0), 0);
      this.publishLog.record(
        topic,
        { calls: calls.length, appended: appended.length, duplicates: answered - appended.length },
        this.store.head,
      );
    }
    return results.map((result) =>
      result.ok ? { ok: true, value: { ok: true, events: result.value.outcomes } } : result,
    );
  }

  async history(
    topic: string,
    from: number,
    limit: number,
    types?: string[],
    range: HistoryRange = {},
  ): Promise<HistoryResult> {
    await this.rememberTopic(topic);
    const position = this.store.position();
    const upTo = range.until === undefined ? position.head : untilSeq(this.store, range.until);
    const after = range.rewind ? rewindCursor(this.store, range.rewind, upTo) : from;
    if (after < position.oldest - 1) {
      return { ok: false, code: "cursor_expired", oldest: position.oldest, head: position.head };
    }
    // A cursor past the head was never handed out by this log (reset, or another topic's cursor).
    if (after > position.head) return { ok: false, code: "cursor_ahead", oldest: position.oldest, head: position.head };
    const page = this.store.readJoined(after, upTo, limit, types);
    const next = page.more ? page.last : Math.max(after, upTo);
    return { ok: true, epoch: position.epoch, head: position.head, events: page.pieces, next, more: page.more };
  }

  /**
   * Resolves a rewind (`last` N, `since` a time) to a cursor for a hub: one call, then the hub's
   * usual replay from that cursor, gaps included.
   */
  async rewind(topic: string, rewind: Rewind): Promise<RewindStart> {
    await this.rememberTopic(topic);
    return { epoch: this.store.position().epoch, after: rewindCursor(this.store, rewind) };
  }

  async info(topic: string): Promise<TopicInfo> {
    await this.rememberTopic(topic);
    const { epoch, head, oldest } = this.store.position();
    return {
      topic,
      epoch,
      head,
      oldest,
      eventCount: head - oldest + 1,
      bytes: this.store.bytes,
      dedupWindowSeconds: this.config.dedupWindowSeconds,
      retention: {
        maxAgeSeconds: this.config.retentionMaxAgeSeconds,
        maxEvents: this.config.retentionMaxEvents,
        maxBytes: this.config.retentionMaxBytes,
        protectSubscriptions: this.config.retentionProtectSubscriptions,
      },
    };
  }

  /** What the topic has done and holds, for operators. */
  async stats(topic: string): Promise<TopicStats> {
    await this.rememberTopic(topic);
    const counters = this.store.counters();
    const { head, oldest } = this.store.position();
    return {
      topic,
      publishes: counters.publishes,
      eventsAppended: counters.appended,
      duplicates: counters.duplicates,
      eventCount: head - oldest + 1,
      bytes: counters.bytes,
      liveSockets: this.fanout.subscribers,
      hubs: this.fanout.count,
      ...this.subscriptionStore.totals(),
    };
  }

  /**
   * A hub asks for the topic's appends: it is registered durably and pushed to from what it holds
   * (`known`, same epoch) or from the head now.
   */
  async attachHub(topic: string, attach: HubAttach): Promise<HubAttachResult> {
    await this.rememberTopic(topic);
    return this.fanout.attach(attach, Date.now());
  }

  /** A hub no longer wants the topic's appends. */
  async detachHub(_topic: string, hub: string): Promise<void> {
    this.fanout.detach(hub);
  }

  /**
   * A page of the log after `after` for a hub serving a resuming socket (the hub plans gaps
   * itself: a cursor older than the oldest event reads from the oldest). `next` and `more` as in
   * `history`.
   */
  async readPage(topic: string, after: number, limit: number, types?: string[]): Promise<ReadPageResult> {
    await this.rememberTopic(topic);
    const { epoch, oldest, head } = this.store.position();
    if (after > head) return { ok: false, code: "cursor_ahead", head };
    const size = Math.max(1, Math.min(limit, this.config.replayPageSize));
    const rows = this.store.read(after, size + 1, types);
    const more = rows.length > size;
    const page = more ? rows.slice(0, size) : rows;
    const next = more ? page[page.length - 1].seq : Math.max(after, head);
    return { ok: true, epoch, oldest, head, rows: page, next, more };
  }

  async putSubscription(topic: string, name: string, config: SubscriptionConfig): Promise<PutSubscriptionResult> {
    await this.rememberTopic(topic, true);
    return this.armedAfter(this.subscriptions.put(topic, name, config, Date.now()));
  }

  async getSubscription(topic: string, name: string): Promise<SubscriptionResult> {
    return this.subscriptions.get(topic, name);
  }

  async listSubscriptions(topic: string): Promise<{ ok: true; subscriptions: SubscriptionView[] }> {
    return this.subscriptions.list(topic);
  }

  async deleteSubscription(topic: string, name: string): Promise<DeleteSubscriptionResult> {
    return this.armedAfter(this.subscriptions.delete(topic, name));
  }

  async pauseSubscription(topic: string, name: string): Promise<SubscriptionResult> {
    return this.armedAfter(this.subscriptions.pause(topic, name, Date.now()));
  }

  async resumeSubscription(topic: string, name: string): Promise<SubscriptionResult> {
    return this.armedAfter(this.subscriptions.resume(topic, name, Date.now()));
  }

  async seekSubscription(topic: string, name: string, to: SeekTarget): Promise<SeekResult> {
    return this.armedAfter(this.subscriptions.seek(topic, name, to, Date.now()));
  }

  async rotateSubscriptionSecret(
    topic: string,
    name: string,
    request: RotateSecretRequest,
  ): Promise<RotateSecretResult> {
    return this.subscriptions.rotateSecret(topic, name, request, Date.now());
  }

  /** A page of dead letters of one subscription, or of all the topic's subscriptions. */
  async listDeadLetters(topic: string, request: DeadLetterPageRequest): Promise<DeadLettersResult> {
    return this.subscriptions.deadLetters(topic, request);
  }

  /** Of `seqs`, those that are not the subscription's dead letters: a redrive by id checks before it sends. */
  async missingDeadLetters(subscription: string, seqs: number[]): Promise<number[]> {
    return this.subscriptions.missingDeadLetters(subscription, seqs);
  }

  /** Delivers dead letters (all, or `seqs`) again, in seq order, through the alarm. */
  async redriveDeadLetters(topic: string, subscription: string, seqs?: number[]): Promise<RedriveResult> {
    return this.armedAfter(this.subscriptions.redrive(topic, subscription, seqs, Date.now()));
  }

  async deleteDeadLetters(topic: string, subscription: string, seqs: number[]): Promise<DeleteDeadLettersResult> {
    return this.subscriptions.deleteDeadLetters(topic, subscription, seqs);
  }

  override async alarm(): Promise<void> {
    // The runtime cleared the alarm that is running now.
    this.armedAt = null;
    const now = Date.now();
    const cutoff = dueCutoff(now, Number(this.store.getMeta("alarm_at") ?? 0));
    const trimDue = Number(this.store.getMeta("trim_due") ?? Number.POSITIVE_INFINITY);
    if (trimDue <= now) {
      const step = this.retention.step(now);
      if (step.removed > 0 || step.removedKeys > 0) {
        logLine("retention", {
          topic: this.store.topic,
          removed: step.removed,
          removedKeys: step.removedKeys,
        });
      }
      this.setTrimDue(step.nextAt);
    }
    const hubsDue = this.hubsDue ?? Number.POSITIVE_INFINITY;
    await Promise.all([hubsDue <= cutoff ? this.syncHubs() : null, this.dispatcher.run(cutoff)]);
    await this.armAlarm();
  }

  /** Asks every hub where it stands and pushes what it lacks; the alarm looks again until all hold the head. */
  private async syncHubs(): Promise<void> {
    const settled = await this.fanout.sync();
    this.setHubsDue(settled ? null : Date.now() + HUB_SYNC_MS);
  }

  private setHubsDue(at: number | null): void {
    this.hubsDue = at;
    if (at === null) this.ctx.storage.sql.exec("DELETE FROM meta WHERE key = 'hubs_due'");
    else this.store.setMeta("hubs_due", String(at));
  }

  /**
   * One alarm serves every timed duty (retention trims, hubs owed a check, subscription deliveries
   * and retries); it is armed at the earliest due time kept in SQLite.
   */
  private async armAlarm(): Promise<void> {
    // The armed time is kept in memory after the first read: publishes then re-arm without a
    // storage round trip. Storage keeps alarm operations in order, so the last one set wins.
    if (this.armedAt === undefined) this.armedAt = await this.ctx.storage.getAlarm();
    // Due times are read after the await and decided in the same step, so a concurrent caller can
    // never leave behind an alarm later than the earliest due time.
    const trimDue = this.store.getMeta("trim_due");
    const due = earliest(trimDue === null ? null : Number(trimDue), this.hubsDue, this.subscriptionStore.nextDueAt());
    if (due === this.armedAt) return;
    this.armedAt = due;
    if (due === null) {
      await this.ctx.storage.deleteAlarm();
    } else {
      // Remembered so an alarm run early still does the work it was armed for (see dueCutoff).
      this.store.setMeta("alarm_at", String(due));
      // Never at or before now: an alarm re-armed from its own run for the time it runs for was
      // seen locally never to fire while getAlarm() still answered it, and armedAt then kept
      // anything from arming it again.
      await this.ctx.storage.setAlarm(Math.max(due, Date.now() + 1));
    }
  }

  /** Re-arms the alarm after a subscription change moved a due time. */
  private async armedAfter<T>(result: T): Promise<T> {
    await this.armAlarm();
    return result;
  }

  /** When retention looks next; none while nothing is retained, so an idle topic sleeps. */
  private setTrimDue(at: number | null): void {
    if (at === null) this.ctx.storage.sql.exec("DELETE FROM meta WHERE key = 'trim_due'");
    else this.store.setMeta("trim_due", String(at));
  }

  /**
   * Records the topic's name and, on writes, lists it in the directory once per topic, so reading
   * a topic that does not exist does not list it.
   */
  private async rememberTopic(topic: string, write = false): Promise<void> {
    if (!topic || this.registered) return;
    this.store.nameTopic(topic);
    if (!write) return;
    if (this.store.getMeta("registered") === null) {
      try {
        await topicDirectory(this.env).register(topic);
        this.store.setMeta("registered", "1");
      } catch (err) {
        // Listing is best effort; the next call tries again.
        logLine("directory register failed", { topic, error: String(err) });
        return;
      }
    }
    this.registered = true;
  }
}

/** Pushes reach a hub through its object's RPC; a stub whose call failed is not reused (it may be broken). */
function hubSender(env: Env): HubSender {
  const stubs = new Map<string, DurableObjectStub<SocketHub>>();
  return async (hub, push) => {
    let stub = stubs.get(hub);
    if (!stub) {
      stub = env.SOCKET_HUB.get(env.SOCKET_HUB.idFromName(hub));
      stubs.set(hub, stub);
    }
    try {
      return await stub.deliver(push);
    } catch (error) {
      stubs.delete(hub);
      throw error;
    }
  };
}
