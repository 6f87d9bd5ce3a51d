import type { SubscriptionConfig } from "../protocol/subscriptions.ts";
import type { StoredRow } from "./log-store.ts";
import { SubscriptionDeadLetters } from "./subscription-dead-letters.ts";
import { SubscriptionDeliveries, UNORDERED_CURSOR } from "./subscription-deliveries.ts";

/** A subscription as stored: its config (with the webhook secret) and its delivery state. */
export interface SubscriptionRow {
  name: string;
  config: SubscriptionConfig;
  state: "active" | "paused";
  pausedReason: "manual" | "exhausted" | "gap" | null;
  /** Last seq passed (delivered, dead-lettered or filtered out). */
  cursor: number;
  /** Failed attempts of the batch being retried. */
  attempts: number;
  /** Last seq of the batch being retried or sent; null when none is in flight. */
  batchEnd: number | null;
  /** Unordered: the last seq handed to a delivery (those after the cursor may be done); null when strict. */
  dispatched: number | null;
  firstFailureAt: number | null;
  /** When delivery is due; null when caught up or paused. */
  nextAttemptAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  lastDeliveredAt: number | null;
  delivered: number;
  /** A webhook's previous secret, still signing beside the current one until `retiringUntil`. */
  retiringSecret: string | null;
  retiringUntil: number | null;
  /** Bumped by every change a user makes, so a delivery that was in flight meanwhile is not applied. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

type SqlRow = Record<string, SqlStorageValue>;

const SUBSCRIPTION_COLUMNS = `name, config, state, paused_reason AS pausedReason, cursor, attempts, batch_end AS batchEnd, dispatched,
  first_failure_at AS firstFailureAt, next_attempt_at AS nextAttemptAt, last_error AS lastError,
  last_error_at AS lastErrorAt, last_delivered_at AS lastDeliveredAt, delivered, version,
  retiring_secret AS retiringSecret, retiring_until AS retiringUntil,
  created_at AS createdAt, updated_at AS updatedAt`;

/**
 * Subscriptions in the topic Durable Object's SQLite (their dead letters beside them). Due times live here
 * (not in memory), so after a restart or eviction the alarm finds overdue work and simply runs it.
 * Every write that concludes a delivery checks the row's `version`, so it is dropped if the user
 * paused, sought, updated or deleted the subscription while the delivery was in flight.
 */
export class SubscriptionStore {
  readonly deadLetters: SubscriptionDeadLetters;
  readonly deliveries: SubscriptionDeliveries;
  /** Writes that changed rows, so far: a delivery loop re-reads its subscription only when this moved. */
  private writes = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {
    // Created first: the due-time queries below read both tables.
    this.deadLetters = new SubscriptionDeadLetters(sql);
    this.deliveries = new SubscriptionDeliveries(sql);
    sql.exec(`CREATE TABLE IF NOT EXISTS subscriptions (
        name TEXT PRIMARY KEY, config TEXT NOT NULL, state TEXT NOT NULL, paused_reason TEXT,
        cursor INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, batch_end INTEGER,
        first_failure_at INTEGER, next_attempt_at INTEGER, last_error TEXT, last_error_at INTEGER,
        last_delivered_at INTEGER, delivered INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions (next_attempt_at);
      CREATE TABLE IF NOT EXISTS subscription_gaps (
        subscription TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL, at INTEGER NOT NULL,
        reason TEXT NOT NULL, PRIMARY KEY (subscription, from_seq));`);
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('subscriptions')").toArray();
    if (!columns.some((c) => c.name === "retiring_secret")) {
      sql.exec(`ALTER TABLE subscriptions ADD COLUMN retiring_secret TEXT;
        ALTER TABLE subscriptions ADD COLUMN retiring_until INTEGER;`);
    }
    if (!columns.some((c) => c.name === "dispatched"))
      sql.exec("ALTER TABLE subscriptions ADD COLUMN dispatched INTEGER");
  }

  /** Grows with every write that changed a row (all writes to these tables go through `write`). */
  get changes(): number {
    return this.writes;
  }

  private write(query: string, ...bindings: SqlStorageValue[]): SqlStorageCursor<Record<string, SqlStorageValue>> {
    const cursor = this.sql.exec(query, ...bindings);
    if (cursor.rowsWritten > 0) this.writes += 1;
    return cursor;
  }

  get(name: string): SubscriptionRow | null {
    const row = this.sql
      .exec<SqlRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE name = ?`, name)
      .toArray()[0];
    return row ? toSubscription(row) : null;
  }

  list(): SubscriptionRow[] {
    return this.sql
      .exec<SqlRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY name`)
      .toArray()
      .map(toSubscription);
  }

  create(name: string, config: SubscriptionConfig, cursor: number, now: number): void {
    this.write(
      `INSERT INTO subscriptions (name, config, state, cursor, dispatched, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, 'active', ?, ?, ?, ?, ?)`,
      name,
      JSON.stringify(config),
      cursor,
      unordered(config) ? cursor : null,
      now,
      now,
      now,
    );
  }

  /**
   * A new config drops any delivery in flight: the next one starts afresh under the new config,
   * from the cursor (an unordered subscription's events done ahead of it are delivered again).
   */
  replaceConfig(name: string, config: SubscriptionConfig, now: number): void {
    this.storage.transactionSync(() => {
      this.deliveries.deleteAll(name);
      this.write(
        `UPDATE subscriptions SET config = ?, attempts = 0, batch_end = NULL, first_failure_at = NULL,
           dispatched = CASE WHEN ? THEN cursor ELSE NULL END,
           next_attempt_at = CASE state WHEN 'active' THEN ? ELSE NULL END, version = version + 1, updated_at = ?
         WHERE name = ?`,
        JSON.stringify(config),
        unordered(config) ? 1 : 0,
        now,
        now,
        name,
      );
    });
  }

  /**
   * A webhook's new secret: the current one keeps signing beside it until `until` (a rotation with
   * no grace, `until` not after now, drops it at once). Deliveries in flight are not disturbed.
   */
  rotateSecret(name: string, config: SubscriptionConfig, retiring: string, until: number, now: number): void {
    this.write(
      "UPDATE subscriptions SET config = ?, retiring_secret = ?, retiring_until = ?, updated_at = ? WHERE name = ?",
      JSON.stringify(config),
      until > now ? retiring : null,
      until > now ? until : null,
      now,
      name,
    );
  }

  pause(name: string, now: number): void {
    this.write(
      `UPDATE subscriptions SET state = 'paused', paused_reason = 'manual', next_attempt_at = NULL,
         version = version + 1, updated_at = ? WHERE name = ?`,
      now,
      name,
    );
  }

  /**
   * Resuming retries the event it stopped on with a fresh count of attempts; at a gap, the cursor
   * first moves up to `atLeast` (past the events that are gone), which is the operator's decision.
   */
  resume(name: string, now: number, atLeast: number): void {
    this.storage.transactionSync(() => {
      const atGap = this.get(name)?.pausedReason === "gap";
      this.deliveries.restart(name, now);
      if (atGap) this.deliveries.dropUpTo(name, atLeast);
      this.write(
        `UPDATE subscriptions SET state = 'active', attempts = 0, batch_end = NULL, first_failure_at = NULL,
           cursor = CASE WHEN ? THEN MAX(cursor, ?) ELSE cursor END,
           dispatched = CASE WHEN ? AND dispatched IS NOT NULL THEN MAX(dispatched, ?) ELSE dispatched END,
           paused_reason = NULL, next_attempt_at = ?, version = version + 1, updated_at = ? WHERE name = ?`,
        atGap ? 1 : 0,
        atLeast,
        atGap ? 1 : 0,
        atLeast,
        now,
        now,
        name,
      );
      this.updateUnorderedCursor(name);
    });
  }

  /**
   * Records events the subscription never got (retention removed them first) and applies its
   * policy in the same transaction: pause at the gap, or move the cursor past it and go on. A
   * gap is never passed without its record.
   */
  recordGap(
    name: string,
    version: number,
    gap: { from: number; to: number },
    onGap: "pause" | "continue",
    now: number,
  ): boolean {
    return this.storage.transactionSync(() => {
      const applied =
        onGap === "pause"
          ? this.write(
              `UPDATE subscriptions SET state = 'paused', paused_reason = 'gap', attempts = 0, batch_end = NULL,
                 first_failure_at = NULL, next_attempt_at = NULL, version = version + 1, updated_at = ?
               WHERE name = ? AND version = ?`,
              now,
              name,
              version,
            ).rowsWritten > 0
          : this.write(
              `UPDATE subscriptions SET cursor = ?, attempts = 0, batch_end = NULL, first_failure_at = NULL,
                 dispatched = CASE WHEN dispatched IS NULL THEN NULL ELSE MAX(dispatched, ?) END,
                 next_attempt_at = ? WHERE name = ? AND version = ?`,
              gap.to,
              gap.to,
              now,
              name,
              version,
            ).rowsWritten > 0;
      if (applied && onGap === "continue") {
        this.deliveries.dropUpTo(name, gap.to);
        this.updateUnorderedCursor(name);
      }
      if (applied) {
        this.write(
          `INSERT INTO subscription_gaps (subscription, from_seq, to_seq, at, reason) VALUES (?, ?, ?, ?, 'retention')
           ON CONFLICT (subscription, from_seq) DO UPDATE SET to_seq = MAX(to_seq, excluded.to_seq), at = excluded.at`,
          name,
          gap.from,
          gap.to,
          now,
        );
      }
      return applied;
    });
  }

  /** The subscription's gaps, newest first, and how many it has met in all. */
  gaps(name: string, limit: number): { count: number; latest: { from: number; to: number; at: number }[] } {
    const count = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM subscription_gaps WHERE subscription = ?", name)
      .one().n;
    const latest = this.sql
      .exec<{ from: number; to: number; at: number }>(
        `SELECT from_seq AS "from", to_seq AS "to", at FROM subscription_gaps WHERE subscription = ?
         ORDER BY from_seq DESC LIMIT ?`,
        name,
        limit,
      )
      .toArray();
    return { count, latest };
  }

  seek(name: string, cursor: number, now: number): void {
    this.storage.transactionSync(() => {
      this.deliveries.deleteAll(name);
      this.write(
        `UPDATE subscriptions SET cursor = ?, attempts = 0, batch_end = NULL, first_failure_at = NULL,
           dispatched = CASE WHEN dispatched IS NULL THEN NULL ELSE ? END,
           next_attempt_at = CASE state WHEN 'active' THEN ? ELSE NULL END, version = version + 1, updated_at = ?
         WHERE name = ?`,
        cursor,
        cursor,
        now,
        now,
        name,
      );
    });
  }

  /** Deletes the subscription, its dead letters and its gaps. */
  delete(name: string): boolean {
    return this.storage.transactionSync(() => {
      this.deadLetters.deleteAll(name);
      this.deliveries.deleteAll(name);
      this.write("DELETE FROM subscription_gaps WHERE subscription = ?", name);
      return this.write("DELETE FROM subscriptions WHERE name = ?", name).rowsWritten > 0;
    });
  }

  /** How many subscriptions, dead letters and gaps the topic holds, for its stats. */
  totals(): { subscriptions: number; deadLetters: number; gaps: number } {
    return this.sql
      .exec<{ subscriptions: number; deadLetters: number; gaps: number }>(
        `SELECT (SELECT COUNT(*) FROM subscriptions) AS subscriptions,
           (SELECT COUNT(*) FROM subscription_dead_letters) AS deadLetters,
           (SELECT COUNT(*) FROM subscription_gaps) AS gaps`,
      )
      .one();
  }

  /** The lowest cursor of all subscriptions, paused ones included; null when there are none. */
  floor(): number | null {
    return this.sql.exec<{ floor: number | null }>("SELECT MIN(cursor) AS floor FROM subscriptions").one().floor;
  }

  /** After an append: every active subscription that was caught up is due now. */
  markDue(now: number): void {
    this.write("UPDATE subscriptions SET next_attempt_at = ? WHERE state = 'active' AND next_attempt_at IS NULL", now);
  }

  /** The earliest time any active subscription has work (delivery or a requested redrive). */
  nextDueAt(): number | null {
    const row = this.sql
      .exec<{ due: number | null }>(
        `SELECT MIN(due) AS due FROM (
           SELECT MIN(next_attempt_at) AS due FROM subscriptions WHERE state = 'active'
           UNION ALL
           SELECT MIN(d.redrive_at) AS due FROM subscription_dead_letters d
             JOIN subscriptions s ON s.name = d.subscription WHERE s.state = 'active'
           UNION ALL
           SELECT MIN(d.due_at) AS due FROM subscription_deliveries d
             JOIN subscriptions s ON s.name = d.subscription WHERE s.state = 'active')`,
      )
      .one();
    return row.due;
  }

  /** Names of active subscriptions with work due at or before `cutoff`. */
  dueNames(cutoff: number): string[] {
    return this.sql
      .exec<{ name: string }>(
        `SELECT s.name FROM subscriptions s WHERE s.state = 'active' AND (s.next_attempt_at <= ? OR EXISTS (
           SELECT 1 FROM subscription_dead_letters d WHERE d.subscription = s.name AND d.redrive_at <= ?) OR EXISTS (
           SELECT 1 FROM subscription_deliveries d WHERE d.subscription = s.name AND d.due_at <= ?))
         ORDER BY s.name`,
        cutoff,
        cutoff,
        cutoff,
      )
      .toArray()
      .map((r) => r.name);
  }

  /**
   * A catching-up subscription's progress and its claim on the next delivery, in one write: the
   * cursor and count of what was delivered since the last checkpoint, the end of the batch about to
   * be sent (a retry after a crash resends the same batch), and the due time moved to `until`, so if
   * the object dies the alarm resends from this cursor then.
   */
  checkpoint(
    name: string,
    version: number,
    progress: { cursor: number; delivered: number; attempts: number; firstFailureAt: number | null },
    batchEnd: number,
    until: number,
    now: number,
  ): boolean {
    return (
      this.write(
        `UPDATE subscriptions SET cursor = ?, delivered = delivered + ?, attempts = ?, first_failure_at = ?,
           batch_end = ?, next_attempt_at = ?, last_delivered_at = CASE WHEN ? > 0 THEN ? ELSE last_delivered_at END
         WHERE name = ? AND version = ?`,
        progress.cursor,
        progress.delivered,
        progress.attempts,
        progress.firstFailureAt,
        batchEnd,
        until,
        progress.delivered,
        now,
        name,
        version,
      ).rowsWritten > 0
    );
  }

  /** The cursor moves past `cursor`; the subscription stays due if more events wait. */
  advance(name: string, version: number, cursor: number, delivered: number, now: number, more: boolean): boolean {
    return (
      this.write(
        `UPDATE subscriptions SET cursor = ?, attempts = 0, batch_end = NULL, first_failure_at = NULL,
           next_attempt_at = ?, delivered = delivered + ?,
           last_delivered_at = CASE WHEN ? > 0 THEN ? ELSE last_delivered_at END
         WHERE name = ? AND version = ?`,
        cursor,
        more ? now : null,
        delivered,
        delivered,
        now,
        name,
        version,
      ).rowsWritten > 0
    );
  }

  /** The batch ending at `batchEnd` failed: it is sent again, the same events, at `nextAttemptAt`. */
  scheduleRetry(
    name: string,
    version: number,
    batchEnd: number,
    retry: { attempts: number; firstFailureAt: number; nextAttemptAt: number },
    error: string,
    now: number,
  ): boolean {
    return (
      this.write(
        `UPDATE subscriptions SET batch_end = ?, attempts = ?, first_failure_at = ?, next_attempt_at = ?, last_error = ?,
           last_error_at = ? WHERE name = ? AND version = ?`,
        batchEnd,
        retry.attempts,
        retry.firstFailureAt,
        retry.nextAttemptAt,
        error,
        now,
        name,
        version,
      ).rowsWritten > 0
    );
  }

  /** Attempts ran out and the policy is to pause: it stays on the event (attempts kept for the view). */
  pauseExhausted(name: string, version: number, attempts: number, error: string, now: number): boolean {
    return (
      this.write(
        `UPDATE subscriptions SET state = 'paused', paused_reason = 'exhausted', attempts = ?, next_attempt_at = NULL,
           last_error = ?, last_error_at = ?, version = version + 1, updated_at = ? WHERE name = ? AND version = ?`,
        attempts,
        error,
        now,
        now,
        name,
        version,
      ).rowsWritten > 0
    );
  }

  /**
   * Attempts ran out and the policy is to dead-letter: the batch's events are recorded and the
   * cursor moves past them in one transaction, so an event is never both skipped and unrecorded.
   */
  deadLetter(
    name: string,
    version: number,
    rows: StoredRow[],
    end: number,
    failure: { attempts: number; firstFailureAt: number },
    error: string,
    now: number,
  ): boolean {
    return this.storage.transactionSync(() => {
      const moved =
        this.write(
          `UPDATE subscriptions SET cursor = ?, attempts = 0, batch_end = NULL, first_failure_at = NULL,
             next_attempt_at = ?, last_error = ?, last_error_at = ? WHERE name = ? AND version = ?`,
          end,
          now,
          error,
          now,
          name,
          version,
        ).rowsWritten > 0;
      if (moved) this.deadLetters.record(name, rows, failure, error, now);
      return moved;
    });
  }

  /** Unordered: `from`..`to` is handed to a delivery, claimed until `until`. */
  dispatch(name: string, version: number, from: number, to: number, until: number): boolean {
    return this.storage.transactionSync(() => {
      if (!this.setIfVersion(name, version, "dispatched = ?", to)) return false;
      this.deliveries.claim(name, from, to, until);
      return true;
    });
  }

  /** Unordered: the seqs up to `to` hold nothing for the subscription (filtered out): passed. */
  skipTo(name: string, version: number, to: number): boolean {
    return this.storage.transactionSync(() => {
      if (!this.setIfVersion(name, version, "dispatched = ?", to)) return false;
      this.updateUnorderedCursor(name);
      return true;
    });
  }

  /** Unordered: a delivery due again (a retry, or a send a crash cut off) is claimed before it is sent. */
  claimRetry(name: string, version: number, from: number, to: number, until: number): boolean {
    return this.storage.transactionSync(() => {
      if (!this.setIfVersion(name, version, "updated_at = updated_at")) return false;
      this.deliveries.claim(name, from, to, until);
      return true;
    });
  }

  /** Unordered: a delivery succeeded; the cursor moves up to the lowest seq not yet done. */
  unorderedDelivered(name: string, version: number, from: number, delivered: number, now: number): boolean {
    return this.storage.transactionSync(() => {
      const set = "delivered = delivered + ?, last_delivered_at = ?";
      if (!this.setIfVersion(name, version, set, delivered, now)) return false;
      this.deliveries.remove(name, from);
      this.updateUnorderedCursor(name);
      return true;
    });
  }

  /** Unordered: a delivery failed and waits for its own next attempt; the others go on. */
  unorderedRetry(
    name: string,
    version: number,
    from: number,
    retry: { attempts: number; firstFailureAt: number; nextAttemptAt: number },
    error: string,
    now: number,
  ): boolean {
    return this.storage.transactionSync(() => {
      if (!this.setIfVersion(name, version, "last_error = ?, last_error_at = ?", error, now)) return false;
      this.deliveries.failed(name, from, retry, retry.nextAttemptAt);
      return true;
    });
  }

  /** Unordered: a delivery ran out of attempts; its events become dead letters as its row goes. */
  unorderedDeadLetter(
    name: string,
    version: number,
    from: number,
    rows: StoredRow[],
    failure: { attempts: number; firstFailureAt: number },
    error: string,
    now: number,
  ): boolean {
    return this.storage.transactionSync(() => {
      if (!this.setIfVersion(name, version, "last_error = ?, last_error_at = ?", error, now)) return false;
      this.deadLetters.record(name, rows, failure, error, now);
      this.deliveries.remove(name, from);
      this.updateUnorderedCursor(name);
      return true;
    });
  }

  /** Unordered: a delivery ran out of attempts and the policy is to pause; it stays, attempts kept. */
  unorderedPause(
    name: string,
    version: number,
    from: number,
    failure: { attempts: number; firstFailureAt: number },
    error: string,
    now: number,
  ): boolean {
    return this.storage.transactionSync(() => {
      if (!this.pauseExhausted(name, version, failure.attempts, error, now)) return false;
      this.deliveries.failed(name, from, failure, now);
      return true;
    });
  }

  /** Unordered: when new events are due to be handed out (now), or not before an append (null). */
  setDispatchDue(name: string, version: number, due: number | null): void {
    this.setIfVersion(name, version, "next_attempt_at = ?", due);
  }

  /** `SET <assignments>` on the row if the user changed nothing since `version` was read. */
  private setIfVersion(name: string, version: number, assignments: string, ...values: SqlStorageValue[]): boolean {
    return (
      this.write(`UPDATE subscriptions SET ${assignments} WHERE name = ? AND version = ?`, ...values, name, version)
        .rowsWritten > 0
    );
  }

  /** An unordered subscription's cursor from its outstanding deliveries (strict ones have no `dispatched`). */
  private updateUnorderedCursor(name: string): void {
    this.write(
      `UPDATE subscriptions SET cursor = ${UNORDERED_CURSOR} WHERE name = ? AND dispatched IS NOT NULL`,
      name,
      name,
    );
  }
}

function toSubscription(row: SqlRow): SubscriptionRow {
  const config = JSON.parse(row.config as string) as SubscriptionConfig;
  // Subscriptions stored before delivery modes existed deliver in strict order.
  config.delivery ??= { ordering: "strict" };
  return { ...(row as unknown as SubscriptionRow), config };
}

function unordered(config: SubscriptionConfig): boolean {
  return config.delivery.ordering === "unordered";
}
