import { formatDeadLetterId } from "../protocol/dead-letter-id.ts";
import type { DeadLetter } from "../protocol/dead-letters.ts";
import type { JsonObject } from "../protocol/json.ts";

/** A message that ran out of queue retries for one consumer, with what its ledger knew. */
export interface QueueDeadLetterInput {
  consumer: string;
  topic: string;
  seq: number;
  /** The event's `(source, id)`: a consumer has at most one entry per event. */
  source: string;
  eventId: string;
  event: JsonObject;
  /** The message body as JSON without `consumer`, sent again by a redrive. */
  message: string;
  attempts: number;
  lastError: string;
  firstFailureAt: string;
  lastFailureAt: string;
}

export interface QueueDeadLetterFilter {
  topic?: string;
  consumer?: string;
}

interface Row {
  n: number;
  consumer: string;
  topic: string;
  seq: number;
  event: string;
  attempts: number;
  first_failure_at: string;
  last_failure_at: string;
  last_error: string;
  [key: string]: SqlStorageValue;
}

const COLUMNS = "n, consumer, topic, seq, event, attempts, first_failure_at, last_failure_at, last_error";

function toDeadLetter(row: Row): DeadLetter {
  return {
    id: formatDeadLetterId({ kind: "queue", consumer: row.consumer, n: row.n }),
    kind: "queue",
    topic: row.topic,
    seq: row.seq,
    subscription: null,
    consumer: row.consumer,
    attempts: row.attempts,
    firstFailureAt: row.first_failure_at,
    lastFailureAt: row.last_failure_at,
    lastError: row.last_error,
    event: JSON.parse(row.event),
  };
}

/** The queue dead letters in SQLite; the DeadLetterStore class wires it to a Durable Object. */
export class DeadLetterTable {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS dead_letters (
      n INTEGER PRIMARY KEY AUTOINCREMENT,
      consumer TEXT NOT NULL,
      source TEXT NOT NULL,
      event_id TEXT NOT NULL,
      topic TEXT NOT NULL,
      seq INTEGER NOT NULL,
      event TEXT NOT NULL,
      message TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      first_failure_at TEXT NOT NULL,
      last_failure_at TEXT NOT NULL,
      last_error TEXT NOT NULL,
      UNIQUE (consumer, source, event_id)
    )`);
    // Listing pages read by n within a topic or a consumer; (topic, seq) served the old listing only.
    sql.exec(`DROP INDEX IF EXISTS dead_letters_topic;
      CREATE INDEX IF NOT EXISTS dead_letters_topic_n ON dead_letters (topic, n);
      CREATE INDEX IF NOT EXISTS dead_letters_consumer_n ON dead_letters (consumer, n);`);
  }

  /**
   * Adds a dead letter, or updates the consumer's entry for the same event (a redrive that died
   * again), so an entry keeps its id across redrives.
   */
  record(input: QueueDeadLetterInput): DeadLetter {
    const row = this.sql
      .exec<Row>(
        `INSERT INTO dead_letters (consumer, source, event_id, topic, seq, event, message, attempts, first_failure_at,
           last_failure_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (consumer, source, event_id) DO UPDATE SET event = excluded.event, message = excluded.message,
           attempts = excluded.attempts, last_failure_at = excluded.last_failure_at, last_error = excluded.last_error
         RETURNING ${COLUMNS}`,
        input.consumer,
        input.source,
        input.eventId,
        input.topic,
        input.seq,
        JSON.stringify(input.event),
        input.message,
        input.attempts,
        input.firstFailureAt,
        input.lastFailureAt,
        input.lastError,
      )
      .one();
    return toDeadLetter(row);
  }

  /**
   * Up to `limit` dead letters after n `after`, in n order: the order they were recorded (n is
   * never reused), so one recorded while a listing pages comes at its end. A filter is an equality
   * on an indexed column, so a page reads only its own rows.
   */
  page(filter: QueueDeadLetterFilter, after: number, limit: number): DeadLetter[] {
    const where = ["n > ?"];
    const args: SqlStorageValue[] = [after];
    if (filter.topic !== undefined) {
      where.push("topic = ?");
      args.push(filter.topic);
    }
    if (filter.consumer !== undefined) {
      where.push("consumer = ?");
      args.push(filter.consumer);
    }
    return this.sql
      .exec<Row>(`SELECT ${COLUMNS} FROM dead_letters WHERE ${where.join(" AND ")} ORDER BY n LIMIT ?`, ...args, limit)
      .toArray()
      .map(toDeadLetter);
  }

  get(consumer: string, n: number): { deadLetter: DeadLetter; message: string } | null {
    const row = this.sql
      .exec<Row & { message: string }>(
        `SELECT ${COLUMNS}, message FROM dead_letters WHERE consumer = ? AND n = ?`,
        consumer,
        n,
      )
      .toArray()[0];
    return row === undefined ? null : { deadLetter: toDeadLetter(row), message: row.message };
  }

  remove(n: number): boolean {
    return this.sql.exec("DELETE FROM dead_letters WHERE n = ?", n).rowsWritten > 0;
  }

  /** Drops the consumer's entry for an event once a redrive of it succeeded. */
  resolve(consumer: string, source: string, eventId: string): boolean {
    return (
      this.sql.exec(
        "DELETE FROM dead_letters WHERE consumer = ? AND source = ? AND event_id = ?",
        consumer,
        source,
        eventId,
      ).rowsWritten > 0
    );
  }
}
