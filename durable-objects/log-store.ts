import type { JsonObject } from "../protocol/json.ts";
import { storedEventJson } from "../protocol/mesh-event.ts";

/** Where a topic's log stands. */
export interface LogPosition {
  epoch: string;
  /** Seq of the newest event ever appended; 0 for an empty topic. */
  head: number;
  /** Seq of the oldest retained event; `head + 1` when nothing is retained. */
  oldest: number;
}

export interface AppendOutcome {
  id: string;
  source: string;
  seq: number;
  duplicate: boolean;
}

/** A newly stored event, serialized once: the same text goes to history, sockets and targets. */
export type StoredRow = {
  seq: number;
  type: string;
  body: string;
};

export interface AppendResult {
  outcomes: AppendOutcome[];
  appended: StoredRow[];
}

export interface RetentionPolicy {
  maxAgeSeconds: number;
  maxEvents: number;
  dedupWindowSeconds: number;
}

/**
 * The topic log in the Durable Object's SQLite: `events` holds each event's JSON by seq, `dedup`
 * remembers `(source, id)` for the dedup window (longer or shorter than event retention), and
 * `meta` keeps the epoch, and the head whenever a trim removes events (so trimming every event never
 * resets the sequence). As the single writer, the store keeps the head in memory.
 * `events_at` lets the alarm find the age cut without reading every retained row each minute.
 */
export class LogStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dedup (source TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (source, id));
      CREATE INDEX IF NOT EXISTS dedup_at ON dedup (at);
      CREATE INDEX IF NOT EXISTS events_at ON events (at);`);
    if (this.getMeta("epoch") === null) this.setMeta("epoch", crypto.randomUUID());
    const newest = sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM events").one().seq ?? 0;
    this.currentHead = Math.max(newest, Number(this.getMeta("head") ?? 0));
  }

  private currentHead: number;

  getMeta(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  get head(): number {
    return this.currentHead;
  }

  position(): LogPosition {
    const head = this.head;
    const row = this.sql.exec<{ oldest: number | null }>("SELECT MIN(seq) AS oldest FROM events").one();
    return { epoch: this.getMeta("epoch") as string, head, oldest: row.oldest ?? head + 1 };
  }

  /**
   * Appends a publish call's events in one transaction: all are stored or none. A `(source, id)`
   * seen inside the dedup window, earlier or in the same call, stores nothing and answers with
   * the original seq.
   */
  append(events: JsonObject[], now: number, dedupWindowSeconds: number): AppendResult {
    const result = this.storage.transactionSync(() => {
      let head = this.currentHead;
      const freshAfter = now - dedupWindowSeconds * 1000;
      const outcomes: AppendOutcome[] = [];
      const appended: StoredRow[] = [];
      for (const event of events) {
        const id = String(event.id);
        const source = String(event.source);
        // Claims the key in one statement: a new key is inserted, a key older than the window is
        // taken over, and a fresh one is left alone (no row returned): the event is a duplicate.
        const claimed = this.sql
          .exec(
            `INSERT INTO dedup (source, id, seq, at) VALUES (?, ?, ?, ?)
             ON CONFLICT (source, id) DO UPDATE SET seq = excluded.seq, at = excluded.at WHERE dedup.at < ?
             RETURNING seq`,
            source,
            id,
            head + 1,
            now,
            freshAfter,
          )
          .toArray().length;
        if (claimed === 0) {
          const seen = this.sql
            .exec<{ seq: number }>("SELECT seq FROM dedup WHERE source = ? AND id = ?", source, id)
            .one();
          outcomes.push({ id, source, seq: seen.seq, duplicate: true });
          continue;
        }
        head += 1;
        const body = storedEventJson(event, head);
        outcomes.push({ id, source, seq: head, duplicate: false });
        appended.push({ seq: head, type: String(event.type), body });
      }
      this.insertRows(appended, now);
      return { outcomes, appended, head };
    });
    // Only after the transaction committed: a rolled-back append leaves the head where it was.
    this.currentHead = result.head;
    return { outcomes: result.outcomes, appended: result.appended };
  }

  /** Multi-row inserts, 25 rows (100 bound values, the statement limit) at a time. */
  private insertRows(rows: StoredRow[], now: number): void {
    for (let i = 0; i < rows.length; i += 25) {
      const chunk = rows.slice(i, i + 25);
      this.sql.exec(
        `INSERT INTO events (seq, type, at, body) VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(", ")}`,
        ...chunk.flatMap((row) => [row.seq, row.type, now, row.body]),
      );
    }
  }

  /** Events with seq > `after` in order, at most `limit`, optionally only the given types. */
  read(after: number, limit: number, types?: readonly string[]): StoredRow[] {
    if (types && types.length > 0) {
      const marks = types.map(() => "?").join(",");
      return this.sql
        .exec<StoredRow>(
          `SELECT seq, type, body FROM events WHERE seq > ? AND type IN (${marks}) ORDER BY seq LIMIT ?`,
          after,
          ...types,
          limit,
        )
        .toArray();
    }
    return this.sql
      .exec<StoredRow>("SELECT seq, type, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
      .toArray();
  }

  /** One event by seq, or null when it was never stored or is trimmed. */
  get(seq: number): StoredRow | null {
    return this.sql.exec<StoredRow>("SELECT seq, type, body FROM events WHERE seq = ?", seq).toArray()[0] ?? null;
  }

  /**
   * Drops events beyond the count limit or older than the age limit, always a prefix of the log
   * so the retained seqs stay contiguous, and forgets dedup keys older than the window.
   */
  trim(now: number, policy: RetentionPolicy): { removed: number } {
    const head = this.head;
    const byAge = this.sql
      .exec<{ seq: number | null }>(
        "SELECT MAX(seq) AS seq FROM events WHERE at < ?",
        now - policy.maxAgeSeconds * 1000,
      )
      .one().seq;
    const cut = Math.max(byAge ?? 0, head - policy.maxEvents);
    let removed = 0;
    if (cut > 0) {
      // The head is written down before its event may go, so an empty log still knows it.
      this.setMeta("head", String(head));
      removed = this.sql.exec("DELETE FROM events WHERE seq <= ?", cut).rowsWritten;
    }
    this.sql.exec("DELETE FROM dedup WHERE at < ?", now - policy.dedupWindowSeconds * 1000);
    return { removed };
  }
}
