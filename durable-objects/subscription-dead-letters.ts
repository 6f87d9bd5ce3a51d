import type { StoredRow } from "./log-store.ts";

/** A subscription's dead letter as stored. */
export interface DeadLetterRow {
  subscription: string;
  seq: number;
  /** The event's stored JSON. */
  event: string;
  attempts: number;
  firstFailureAt: number;
  lastFailureAt: number;
  lastError: string;
  /** When a requested redrive is due; null when none is pending. */
  redriveAt: number | null;
  redriveAttempts: number;
}

/** A dead letter's place in a topic's listing order, (subscription, seq): the table's key. */
export interface DeadLetterKey {
  subscription: string;
  seq: number;
}

/** A page of a topic's dead letters: up to `limit` after `after`, only `subscription`'s when named. */
export interface DeadLetterPageRequest {
  subscription?: string;
  after: DeadLetterKey;
  limit: number;
}

/** Before every dead letter of a topic. */
export const FIRST_KEY: DeadLetterKey = { subscription: "", seq: 0 };

type SqlRow = Record<string, SqlStorageValue>;

/** A seq list bound as one JSON array, so no list runs into the limit on bound parameters. */
const IN_SEQS = "seq IN (SELECT value FROM json_each(?))";

const DEAD_LETTER_COLUMNS = `subscription, seq, event, attempts, first_failure_at AS firstFailureAt,
  last_failure_at AS lastFailureAt, last_error AS lastError, redrive_at AS redriveAt, redrive_attempts AS redriveAttempts`;

/**
 * Events a subscription gave up on, keyed by (subscription, seq), with the event's JSON (it may be
 * trimmed from the log by then), attempts, failure times and the last error. A redrive marks rows
 * due (`redrive_at`); the dispatcher delivers them and deletes those that succeed.
 */
export class SubscriptionDeadLetters {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS subscription_dead_letters (
        subscription TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, attempts INTEGER NOT NULL,
        first_failure_at INTEGER NOT NULL, last_failure_at INTEGER NOT NULL, last_error TEXT NOT NULL,
        redrive_at INTEGER, redrive_attempts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (subscription, seq));
      CREATE INDEX IF NOT EXISTS subscription_dead_letters_redrive ON subscription_dead_letters (redrive_at);`);
  }

  record(
    subscription: string,
    rows: StoredRow[],
    failure: { attempts: number; firstFailureAt: number },
    error: string,
    now: number,
  ): void {
    for (const row of rows) {
      // A replayed event that dies again replaces its earlier dead letter, adding up the attempts.
      this.sql.exec(
        `INSERT INTO subscription_dead_letters (subscription, seq, event, attempts, first_failure_at, last_failure_at, last_error)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (subscription, seq) DO UPDATE SET event = excluded.event,
           attempts = attempts + excluded.attempts, last_failure_at = excluded.last_failure_at,
           last_error = excluded.last_error, redrive_at = NULL, redrive_attempts = 0`,
        subscription,
        row.seq,
        row.body,
        failure.attempts,
        failure.firstFailureAt,
        now,
        error,
      );
    }
  }

  deleteAll(subscription: string): void {
    this.sql.exec("DELETE FROM subscription_dead_letters WHERE subscription = ?", subscription);
  }

  /** A page in key order: a range read on the primary key, so a page reads only its own rows. */
  page({ subscription, after, limit }: DeadLetterPageRequest): DeadLetterRow[] {
    const select = `SELECT ${DEAD_LETTER_COLUMNS} FROM subscription_dead_letters`;
    if (subscription === undefined) {
      return this.sql
        .exec<SqlRow>(
          `${select} WHERE (subscription, seq) > (?, ?) ORDER BY subscription, seq LIMIT ?`,
          after.subscription,
          after.seq,
          limit,
        )
        .toArray() as unknown as DeadLetterRow[];
    }
    // One subscription's rows all sort after a key of an earlier subscription and before one of a
    // later (names are ASCII: JavaScript and SQLite order them alike).
    if (after.subscription > subscription) return [];
    const afterSeq = after.subscription === subscription ? after.seq : 0;
    return this.sql
      .exec<SqlRow>(`${select} WHERE subscription = ? AND seq > ? ORDER BY seq LIMIT ?`, subscription, afterSeq, limit)
      .toArray() as unknown as DeadLetterRow[];
  }

  count(subscription: string): number {
    return this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM subscription_dead_letters WHERE subscription = ?", subscription)
      .one().n;
  }

  /** Of the given seqs, those that are not dead letters of the subscription. */
  missing(subscription: string, seqs: readonly number[]): number[] {
    const found = new Set(
      this.sql
        .exec<{ seq: number }>(
          `SELECT seq FROM subscription_dead_letters WHERE subscription = ? AND ${IN_SEQS}`,
          subscription,
          JSON.stringify(seqs),
        )
        .toArray()
        .map((r) => r.seq),
    );
    return seqs.filter((s) => !found.has(s));
  }

  /** Queues dead letters (all, or the given seqs) for redelivery now; returns their seqs in order. */
  requestRedrive(subscription: string, seqs: readonly number[] | undefined, now: number): number[] {
    const filter = seqs === undefined ? "" : ` AND ${IN_SEQS}`;
    const args = seqs === undefined ? [] : [JSON.stringify(seqs)];
    this.sql.exec(
      `UPDATE subscription_dead_letters SET redrive_at = ?, redrive_attempts = 0 WHERE subscription = ?${filter}`,
      now,
      subscription,
      ...args,
    );
    return this.sql
      .exec<{ seq: number }>(
        `SELECT seq FROM subscription_dead_letters WHERE subscription = ? AND redrive_at IS NOT NULL${filter} ORDER BY seq`,
        subscription,
        ...args,
      )
      .toArray()
      .map((r) => r.seq);
  }

  /** Redrives due at or before `cutoff`, lowest seq first. */
  dueRedrives(subscription: string, cutoff: number, limit: number): DeadLetterRow[] {
    return this.sql
      .exec<SqlRow>(
        `SELECT ${DEAD_LETTER_COLUMNS} FROM subscription_dead_letters
         WHERE subscription = ? AND redrive_at <= ? ORDER BY seq LIMIT ?`,
        subscription,
        cutoff,
        limit,
      )
      .toArray() as unknown as DeadLetterRow[];
  }

  /** Moves redrive due times (a lease before sending, or the next retry after a failure). */
  setRedriveAt(subscription: string, seqs: readonly number[], at: number): void {
    this.sql.exec(
      `UPDATE subscription_dead_letters SET redrive_at = ? WHERE subscription = ? AND ${IN_SEQS}`,
      at,
      subscription,
      JSON.stringify(seqs),
    );
  }

  redriveFailed(
    subscription: string,
    seqs: readonly number[],
    outcome: { attempts: number; nextAttemptAt: number | null },
    error: string,
    now: number,
  ): void {
    // Giving up ends the redrive; the dead letter stays, its attempts counting every try.
    this.sql.exec(
      `UPDATE subscription_dead_letters SET redrive_at = ?, redrive_attempts = ?,
         attempts = attempts + 1, last_failure_at = ?, last_error = ?
       WHERE subscription = ? AND ${IN_SEQS}`,
      outcome.nextAttemptAt,
      outcome.nextAttemptAt === null ? 0 : outcome.attempts,
      now,
      error,
      subscription,
      JSON.stringify(seqs),
    );
  }

  /** Removes dead letters; returns the seqs that were removed. */
  delete(subscription: string, seqs: readonly number[]): number[] {
    return this.sql
      .exec<{ seq: number }>(
        `DELETE FROM subscription_dead_letters WHERE subscription = ? AND ${IN_SEQS} RETURNING seq`,
        subscription,
        JSON.stringify(seqs),
      )
      .toArray()
      .map((r) => r.seq)
      .sort((a, b) => a - b);
  }
}
