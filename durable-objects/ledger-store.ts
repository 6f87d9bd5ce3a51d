/**
 * One consumer's processing record, per event `(source, id)`: who holds it now (a lease), whether
 * it is done, and how its attempts failed. SQL only; the ConsumerLedger class wires it to a DO.
 */

/** What a delivery may do with an event. */
export type ClaimResult =
  | { ok: true; token: string }
  | { ok: false; code: "done" }
  | { ok: false; code: "busy"; retryInMs: number };

/** An event's record as the dead-letter consumer reads it. */
export interface LedgerStatus {
  state: "running" | "failed" | "done";
  attempts: number;
  lastError: string | null;
  firstFailureAt: string | null;
  lastFailureAt: string | null;
}

interface Row {
  state: LedgerStatus["state"];
  token: string | null;
  lease_until: number | null;
  attempts: number;
  last_error: string | null;
  first_failure_at: number | null;
  last_failure_at: number | null;
  [key: string]: SqlStorageValue;
}

/** Error text is kept short: it is for people reading a dead letter, not a full dump. */
const MAX_ERROR_CHARS = 2000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class LedgerStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS ledger (
      source TEXT NOT NULL,
      id TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('running', 'failed', 'done')),
      token TEXT,
      lease_until INTEGER,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      first_failure_at INTEGER,
      last_failure_at INTEGER,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (source, id)
    )`);
    sql.exec("CREATE INDEX IF NOT EXISTS ledger_updated ON ledger (updated_at)");
  }

  private row(source: string, id: string): Row | undefined {
    return this.sql
      .exec<Row>(
        "SELECT state, token, lease_until, attempts, last_error, first_failure_at, last_failure_at FROM ledger WHERE source = ? AND id = ?",
        source,
        id,
      )
      .toArray()[0];
  }

  /**
   * Takes the event for one run of the handler. A done event is never run again; an event whose
   * lease is still held is being run by another delivery right now, so this one waits. An expired
   * lease means its holder died mid-run: the event is claimed again (the effect may repeat).
   */
  claim(source: string, id: string, now: number, leaseMs: number): ClaimResult {
    const row = this.row(source, id);
    if (row?.state === "done") return { ok: false, code: "done" };
    if (row?.state === "running" && row.lease_until !== null && row.lease_until > now) {
      return { ok: false, code: "busy", retryInMs: row.lease_until - now };
    }
    const token = crypto.randomUUID();
    this.sql.exec(
      `INSERT INTO ledger (source, id, state, token, lease_until, updated_at) VALUES (?, ?, 'running', ?, ?, ?)
       ON CONFLICT (source, id) DO UPDATE SET state = 'running', token = excluded.token,
         lease_until = excluded.lease_until, updated_at = excluded.updated_at`,
      source,
      id,
      token,
      now + leaseMs,
      now,
    );
    return { ok: true, token };
  }

  /** The handler finished: from now on every delivery of this event is acknowledged unrun. */
  complete(source: string, id: string, now: number): void {
    this.sql.exec(
      "UPDATE ledger SET state = 'done', token = NULL, lease_until = NULL, updated_at = ? WHERE source = ? AND id = ?",
      now,
      source,
      id,
    );
  }

  /**
   * The handler threw: counts the attempt and keeps its error (a queue message carries none, so
   * this is where the dead-letter consumer finds it). Only the lease holder releases the lease.
   */
  fail(source: string, id: string, token: string, error: string, now: number): number {
    this.sql.exec(
      `UPDATE ledger SET attempts = attempts + 1, last_error = ?, first_failure_at = COALESCE(first_failure_at, ?),
         last_failure_at = ?, updated_at = ?,
         state = CASE WHEN token = ? THEN 'failed' ELSE state END,
         lease_until = CASE WHEN token = ? THEN NULL ELSE lease_until END,
         token = CASE WHEN token = ? THEN NULL ELSE token END
       WHERE source = ? AND id = ? AND state != 'done'`,
      error.slice(0, MAX_ERROR_CHARS),
      now,
      now,
      now,
      token,
      token,
      token,
      source,
      id,
    );
    return this.row(source, id)?.attempts ?? 0;
  }

  status(source: string, id: string): LedgerStatus | null {
    const row = this.row(source, id);
    if (row === undefined) return null;
    return {
      state: row.state,
      attempts: row.attempts,
      lastError: row.last_error,
      firstFailureAt: iso(row.first_failure_at),
      lastFailureAt: iso(row.last_failure_at),
    };
  }

  /** Forgets records untouched since `before` (any lease they held expired long ago). */
  prune(before: number): number {
    return this.sql.exec("DELETE FROM ledger WHERE updated_at < ?", before).rowsWritten;
  }

  /** The oldest `updated_at`, or null when the ledger is empty. */
  oldestUpdate(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT MIN(updated_at) AS t FROM ledger").one().t;
  }
}
