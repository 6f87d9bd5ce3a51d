/**
 * The outstanding deliveries of unordered subscriptions: each covers the seqs `from`..`to` (the
 * events of the subscription's types among them), is either in flight (`sending`, due when its
 * lease runs out) or waiting for its next attempt (due then). A delivery that is done leaves the
 * table, so a subscription's rows are bounded by its in-flight and retrying limits, and every seq
 * after the cursor and up to `dispatched` that has no row here is done.
 */
export interface DeliveryRow {
  from: number;
  to: number;
  attempts: number;
  firstFailureAt: number | null;
  dueAt: number;
  sending: number;
}

const COLUMNS = `from_seq AS "from", to_seq AS "to", attempts, first_failure_at AS firstFailureAt,
  due_at AS dueAt, sending`;

/**
 * The cursor of an unordered subscription from its rows: the seq before the lowest one not yet
 * done. Bound to the subscription's name twice (`?` of the subquery, then of the UPDATE).
 */
export const UNORDERED_CURSOR = `COALESCE((SELECT MIN(from_seq) - 1 FROM subscription_deliveries
  WHERE subscription = ?), dispatched)`;

export class SubscriptionDeliveries {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS subscription_deliveries (
        subscription TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, first_failure_at INTEGER, due_at INTEGER NOT NULL,
        sending INTEGER NOT NULL, PRIMARY KEY (subscription, from_seq));
      CREATE INDEX IF NOT EXISTS subscription_deliveries_due ON subscription_deliveries (due_at);`);
  }

  /** Deliveries due at or before `cutoff` (retries, and sends a crash cut off), lowest seq first. */
  due(subscription: string, cutoff: number, limit: number): DeliveryRow[] {
    return this.sql
      .exec<Record<string, SqlStorageValue>>(
        `SELECT ${COLUMNS} FROM subscription_deliveries WHERE subscription = ? AND due_at <= ? ORDER BY from_seq LIMIT ?`,
        subscription,
        cutoff,
        limit,
      )
      .toArray() as unknown as DeliveryRow[];
  }

  /** How many are in flight and how many wait for a retry, and the most attempts any has failed. */
  counts(subscription: string): { inFlight: number; retrying: number; attempts: number } {
    return this.sql
      .exec<{ inFlight: number; retrying: number; attempts: number }>(
        `SELECT COALESCE(SUM(sending), 0) AS inFlight, COUNT(*) - COALESCE(SUM(sending), 0) AS retrying,
           COALESCE(MAX(attempts), 0) AS attempts FROM subscription_deliveries WHERE subscription = ?`,
        subscription,
      )
      .one();
  }

  /** Claims a delivery before it is sent: in flight until `until`, when a crash would have it sent again. */
  claim(subscription: string, from: number, to: number, until: number): void {
    this.sql.exec(
      `INSERT INTO subscription_deliveries (subscription, from_seq, to_seq, due_at, sending) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (subscription, from_seq) DO UPDATE SET due_at = excluded.due_at, sending = 1`,
      subscription,
      from,
      to,
      until,
    );
  }

  /** A failed attempt: the delivery waits until `dueAt` for its next one. */
  failed(
    subscription: string,
    from: number,
    failure: { attempts: number; firstFailureAt: number },
    dueAt: number,
  ): void {
    this.sql.exec(
      `UPDATE subscription_deliveries SET attempts = ?, first_failure_at = ?, due_at = ?, sending = 0
       WHERE subscription = ? AND from_seq = ?`,
      failure.attempts,
      failure.firstFailureAt,
      dueAt,
      subscription,
      from,
    );
  }

  remove(subscription: string, from: number): void {
    this.sql.exec("DELETE FROM subscription_deliveries WHERE subscription = ? AND from_seq = ?", subscription, from);
  }

  /** Resuming: every delivery is due now, with a fresh count of attempts. */
  restart(subscription: string, now: number): void {
    this.sql.exec(
      `UPDATE subscription_deliveries SET attempts = 0, first_failure_at = NULL, due_at = ?, sending = 0
       WHERE subscription = ?`,
      now,
      subscription,
    );
  }

  /**
   * Retention removed the seqs up to `upTo`: deliveries entirely before it go (their gap is
   * recorded), one that straddles it keeps the events that are left.
   */
  dropUpTo(subscription: string, upTo: number): void {
    this.sql.exec("DELETE FROM subscription_deliveries WHERE subscription = ? AND to_seq <= ?", subscription, upTo);
    this.sql.exec(
      "UPDATE subscription_deliveries SET from_seq = ? WHERE subscription = ? AND from_seq <= ?",
      upTo + 1,
      subscription,
      upTo,
    );
  }

  deleteAll(subscription: string): void {
    this.sql.exec("DELETE FROM subscription_deliveries WHERE subscription = ?", subscription);
  }
}
