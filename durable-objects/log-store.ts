import { type AcceptedEvent, storedEventJson } from "../protocol/mesh-event.ts";

/** Bound values per statement are limited to 100: 24 rows of 4 and the window's start. */
const KEYS_PER_CLAIM = 24;
/** 20 rows of 5 bound values. */
const ROWS_PER_INSERT = 20;

/** Statement texts by row count, made once: a publish's statements are built from these. */
const statements = (make: (rows: number) => string) => {
  const made = new Map<number, string>();
  return (rows: number): string => {
    let text = made.get(rows);
    if (text === undefined) {
      text = make(rows);
      made.set(rows, text);
    }
    return text;
  };
};
const values = (rows: number, row: string) => Array.from({ length: rows }, () => row).join(", ");
/** Upserts `rows` keys; a row comes back for each key claimed (new, or older than the window). */
const claimStatement = statements(
  (rows) => `INSERT INTO dedup (source, id, seq, at) VALUES ${values(rows, "(?, ?, ?, ?)")}
     ON CONFLICT (source, id) DO UPDATE SET seq = excluded.seq, at = excluded.at WHERE dedup.at < ?
     RETURNING seq`,
);
const insertStatement = statements(
  (rows) => `INSERT INTO events (seq, type, at, body, size) VALUES ${values(rows, "(?, ?, ?, ?, ?)")}`,
);

/** The condition on `type` for a read that names types (none: every type), and its bindings. */
const typeFilter = (types: readonly string[] = []): { clause: string; types: readonly string[] } =>
  types.length === 0 ? { clause: "", types } : { clause: ` AND type IN (${types.map(() => "?").join(",")})`, types };

/** The seq an event of a publish call gets, and whether its `(source, id)` was already claimed. */
type Claim = { seq: number; duplicate: boolean };

/** One string per `(source, id)`: a source is a URI-reference, which holds no NUL, so the first NUL ends it. */
const dedupKey = (source: string, id: string): string => `${source}\u0000${id}`;

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

/** A page of stored events as UTF-8 pieces: their JSON in seq order, joined with commas. */
export interface JoinedPage {
  /** One piece per join, in seq order (none when the page is empty); pieces join with commas too. */
  pieces: ArrayBuffer[];
  /** Seq of the page's last event (`after` when the page is empty). */
  last: number;
  /** Whether a matching event lies after `last`, up to the page's end. */
  more: boolean;
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

/** Counters of a topic's log since it was created. */
export interface LogStats {
  /** Stored bytes of the retained events. */
  bytes: number;
  /** Publish calls, events appended, and events answered as duplicates. */
  publishes: number;
  appended: number;
  duplicates: number;
}

/** What one bounded trim step removed, and whether the cut asked for more than one step could do. */
export interface TrimStep {
  removed: number;
  removedKeys: number;
  more: boolean;
}

/**
 * The topic log in the Durable Object's SQLite: `events` holds each event's JSON by seq, `dedup`
 * remembers `(source, id)` for the dedup window (longer or shorter than event retention), and
 * `meta` keeps the epoch, and the head whenever a trim removes events (so trimming every event never
 * resets the sequence). As the single writer, the store keeps the head in memory.
 * `at` never decreases along the seqs and the retained seqs have no holes, so retention's age cut
 * and a rewind by time are binary searches over seq (a few reads by key), and no index on `at` costs
 * every append a second B-tree write; each row's `size` and the running total in `meta` let
 * retention keep a byte limit.
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
      DROP INDEX IF EXISTS events_at;`);
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('events')").toArray();
    if (!columns.some((c) => c.name === "size")) {
      sql.exec("ALTER TABLE events ADD COLUMN size INTEGER NOT NULL DEFAULT 0; UPDATE events SET size = length(body);");
    }
    if (this.getMeta("epoch") === null) this.setMeta("epoch", crypto.randomUUID());
    this.epoch = this.getMeta("epoch") as string;
    this.topicName = this.getMeta("topic") ?? "";
    const newest = sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM events").one().seq ?? 0;
    this.oldestStored = sql.exec<{ seq: number | null }>("SELECT MIN(seq) AS seq FROM events").one().seq;
    this.currentHead = Math.max(newest, Number(this.getMeta("head") ?? 0));
    this.lastAt = sql.exec<{ at: number }>("SELECT at FROM events ORDER BY seq DESC LIMIT 1").toArray()[0]?.at ?? 0;
    const stored = this.getMeta("stats");
    this.stats = stored
      ? (JSON.parse(stored) as LogStats)
      : {
          bytes: sql.exec<{ total: number }>("SELECT COALESCE(SUM(size), 0) AS total FROM events").one().total,
          publishes: 0,
          appended: 0,
          duplicates: 0,
        };
  }

  private currentHead: number;
  /**
   * The append time of the newest event. An append is never stamped earlier (a clock that stepped
   * back, an object moved to another machine), so the first event at or after a time is an index lookup.
   */
  private lastAt: number;
  private readonly epoch: string;
  /**
   * Seq of the oldest stored event, `null` while none is; like the head, kept in memory by the only
   * writer, so a delivery loop asking where the log stands before every send reads no SQLite.
   */
  private oldestStored: number | null;
  /** The topic's name, "" until a call names it; in memory because every delivery and push names it. */
  private topicName: string;
  /**
   * Counters of the log, kept in memory and written by `saveCounters` once per group of appends
   * (a call that only met duplicates is counted, and written with the next one that appends).
   */
  private stats: LogStats;

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

  get topic(): string {
    return this.topicName;
  }

  /** Records the topic's name the first time a call names it. */
  nameTopic(topic: string): void {
    if (this.topicName !== "") return;
    this.setMeta("topic", topic);
    this.topicName = topic;
  }

  get head(): number {
    return this.currentHead;
  }

  /** Stored bytes of the retained events (each event's JSON length). */
  get bytes(): number {
    return this.stats.bytes;
  }

  /** What the log has done since it was created: for operators (`GET /v1/topics/:topic/stats`). */
  counters(): LogStats {
    return { ...this.stats };
  }

  position(): LogPosition {
    const head = this.head;
    return { epoch: this.epoch, head, oldest: this.oldestStored ?? head + 1 };
  }

  /**
   * Appends a publish call's events in one transaction: all are stored or none. A `(source, id)`
   * seen inside the dedup window, earlier or in the same call, stores nothing and answers with
   * the original seq.
   */
  append(events: readonly AcceptedEvent[], now: number, dedupWindowSeconds: number): AppendResult {
    const result = this.storage.transactionSync(() => {
      const head = this.currentHead;
      const claims = this.claimKeys(events, head, now, now - dedupWindowSeconds * 1000);
      const outcomes: AppendOutcome[] = [];
      const appended: StoredRow[] = [];
      events.forEach(({ id, source, type, json }, i) => {
        const { seq, duplicate } = claims[i] as Claim;
        outcomes.push({ id, source, seq, duplicate });
        if (!duplicate) appended.push({ seq, type, body: storedEventJson(json, seq) });
      });
      this.insertRows(appended, Math.max(now, this.lastAt));
      const stats: LogStats = {
        bytes: this.stats.bytes + appended.reduce((sum, row) => sum + row.body.length, 0),
        publishes: this.stats.publishes + 1,
        appended: this.stats.appended + appended.length,
        duplicates: this.stats.duplicates + outcomes.length - appended.length,
      };
      return { outcomes, appended, head: head + appended.length, stats };
    });
    // Only after the transaction committed: a rolled-back append leaves the head where it was.
    if (this.oldestStored === null && result.appended.length > 0) this.oldestStored = result.appended[0].seq;
    if (result.appended.length > 0) this.lastAt = Math.max(now, this.lastAt);
    this.currentHead = result.head;
    this.stats = result.stats;
    return { outcomes: result.outcomes, appended: result.appended };
  }

  /**
   * Claims the call's `(source, id)` keys and answers each event's seq: a new key, or one older than
   * the window (taken over), gets the next seq; a key claimed inside the window, earlier or in this
   * same call, keeps the seq it has (the event is a duplicate). The claims assume no duplicates, the
   * common case, in a few multi-row upserts that only count what they claimed; only when some key was
   * not claimed is each key's row read (a seq past the head is this call's claim) and the seqs renumbered.
   */
  private claimKeys(events: readonly AcceptedEvent[], head: number, now: number, freshAfter: number): Claim[] {
    let claimed = 0;
    for (let i = 0; i < events.length; i += KEYS_PER_CLAIM) {
      const end = Math.min(events.length, i + KEYS_PER_CLAIM);
      const bindings: (string | number)[] = [];
      for (let k = i; k < end; k++) bindings.push(events[k].source, events[k].id, head + 1 + k, now);
      bindings.push(freshAfter);
      claimed += this.sql.exec(claimStatement(end - i), ...bindings).toArray().length;
    }
    if (claimed === events.length) return events.map((_, i) => ({ seq: head + 1 + i, duplicate: false }));
    const claims: Claim[] = [];
    const given = new Map<string, number>();
    let next = head;
    for (const { source, id } of events) {
      const key = dedupKey(source, id);
      const earlier = given.get(key);
      if (earlier !== undefined) {
        claims.push({ seq: earlier, duplicate: true });
        continue;
      }
      const { seq } = this.sql
        .exec<{ seq: number }>("SELECT seq FROM dedup WHERE source = ? AND id = ?", source, id)
        .one();
      if (seq <= head) {
        given.set(key, seq);
        claims.push({ seq, duplicate: true });
        continue;
      }
      next += 1;
      given.set(key, next);
      claims.push({ seq: next, duplicate: false });
      if (next !== seq) this.sql.exec("UPDATE dedup SET seq = ? WHERE source = ? AND id = ?", next, source, id);
    }
    return claims;
  }

  /** Writes the counters: once after a group of appends, in the same commit as their events. */
  saveCounters(): void {
    this.setMeta("stats", JSON.stringify(this.stats));
  }

  /** Multi-row inserts, 20 rows (100 bound values, the statement limit) at a time. */
  private insertRows(rows: StoredRow[], now: number): void {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const end = Math.min(rows.length, i + ROWS_PER_INSERT);
      const bindings: (string | number)[] = [];
      for (let k = i; k < end; k++) {
        const row = rows[k];
        bindings.push(row.seq, row.type, now, row.body, row.body.length);
      }
      this.sql.exec(insertStatement(end - i), ...bindings);
    }
  }

  /** Events with seq > `after` in order, at most `limit`, optionally only the given types. */
  read(after: number, limit: number, types?: readonly string[]): StoredRow[] {
    const filter = typeFilter(types);
    return this.sql
      .exec<StoredRow>(
        `SELECT seq, type, body FROM events WHERE seq > ?${filter.clause} ORDER BY seq LIMIT ?`,
        after,
        ...filter.types,
        limit,
      )
      .toArray();
  }

  /**
   * Up to `limit` events with `after` < seq ≤ `upTo` (optionally only the given types) as UTF-8
   * pieces: their JSON in seq order, joined with commas by SQLite itself. A piece crosses into
   * JavaScript and on to the response as one buffer instead of a row object and a string per event,
   * which were most of a history page's cost. The subquery keeps its order: SQLite does not flatten a
   * subquery with a LIMIT into an aggregate, so `group_concat` receives the rows as it yields them.
   * A page is one piece unless its join passes SQLite's string limit (large events): then the rows
   * left are joined in smaller pieces, down to one event each, which always fits since its row did.
   */
  readJoined(after: number, upTo: number, limit: number, types?: readonly string[]): JoinedPage {
    const { clause, types: filter } = typeFilter(types);
    const where = `seq > ? AND seq <= ?${clause}`;
    const pieces: ArrayBuffer[] = [];
    let last = after;
    let taken = 0;
    let pieceRows = limit;
    while (taken < limit) {
      const want = Math.min(pieceRows, limit - taken);
      let piece: { count: number; last: number | null; json: ArrayBuffer | null };
      try {
        piece = this.sql
          .exec<typeof piece>(
            `SELECT count(*) AS count, max(seq) AS last, CAST(group_concat(body, ',') AS BLOB) AS json FROM (SELECT seq, body FROM events WHERE ${where} ORDER BY seq LIMIT ?)`,
            last,
            upTo,
            ...filter,
            want,
          )
          .one();
      } catch (error) {
        if (want === 1 || !String(error).includes("SQLITE_TOOBIG")) throw error;
        pieceRows = Math.ceil(want / 2);
        continue;
      }
      if (piece.json !== null && piece.last !== null) {
        pieces.push(piece.json);
        last = piece.last;
        taken += piece.count;
      }
      if (piece.count < want) break;
    }
    const more =
      taken === limit &&
      this.sql.exec(`SELECT 1 FROM events WHERE ${where} LIMIT 1`, last, upTo, ...filter).toArray().length > 0;
    return { pieces, last, more };
  }

  /** One event by seq, or null when it was never stored or is trimmed. */
  get(seq: number): StoredRow | null {
    return this.sql.exec<StoredRow>("SELECT seq, type, body FROM events WHERE seq = ?", seq).toArray()[0] ?? null;
  }

  /** Seq of the first retained event stored at or after `at` (epoch ms); null when none is. */
  firstAtOrAfter(at: number): number | null {
    const seq = this.lastStoredBefore(at, false) + 1;
    return seq <= this.head ? seq : null;
  }

  /** Seq of the last retained event stored at or before `at` (epoch ms); null when none is. */
  lastAtOrBefore(at: number): number | null {
    const seq = this.lastStoredBefore(at, true);
    return seq >= this.position().oldest ? seq : null;
  }

  /**
   * The last retained seq stored before `at` (or at it, when `inclusive`), or the oldest's seq − 1
   * when none is: a binary search over the retained seqs, which run without a hole from the oldest
   * to the head and whose `at` never decreases.
   */
  private lastStoredBefore(at: number, inclusive: boolean): number {
    const { head, oldest } = this.position();
    let low = oldest - 1;
    let high = head;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      const stored = this.sql.exec<{ at: number }>("SELECT at FROM events WHERE seq = ?", middle).one().at;
      if (stored < at || (inclusive && stored === at)) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /**
   * When the newest trimmed event was stored: events at or after a later time are all retained.
   * Null when nothing was ever trimmed. A log trimmed before this was recorded answers the oldest
   * retained event's time (trimmed events are no later), or +Infinity when none is retained.
   */
  trimmedAt(): number | null {
    const recorded = this.getMeta("trimmed_at");
    if (recorded !== null) return Number(recorded);
    const { head, oldest } = this.position();
    if (head === 0 || oldest === 1) return null;
    return this.oldestAt() ?? Number.POSITIVE_INFINITY;
  }

  /** Seq of the newest event stored before `before`; 0 when none is. */
  agedUpTo(before: number): number {
    const seq = this.lastStoredBefore(before, false);
    return seq >= this.position().oldest ? seq : 0;
  }

  /**
   * The seq up to which the oldest events must go for the rest to fit in `maxBytes`, looking at no
   * more than `scan` rows (a larger excess is cut over several steps); 0 when they fit.
   */
  oversizeUpTo(maxBytes: number, scan: number): number {
    let excess = this.stats.bytes - maxBytes;
    if (excess <= 0) return 0;
    let upTo = 0;
    for (const row of this.sql.exec<{ seq: number; size: number }>(
      "SELECT seq, size FROM events ORDER BY seq LIMIT ?",
      scan,
    )) {
      upTo = row.seq;
      excess -= row.size;
      if (excess <= 0) break;
    }
    return upTo;
  }

  /** When the oldest retained event was stored; null when none is. */
  oldestAt(): number | null {
    return this.sql.exec<{ at: number }>("SELECT at FROM events ORDER BY seq LIMIT 1").toArray()[0]?.at ?? null;
  }

  /** When the oldest dedup key was claimed; null when none is kept. */
  oldestDedupAt(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM dedup").one().at;
  }

  /**
   * One bounded step of retention, in one transaction: drops at most `maxRows` of the events up
   * to `cut` (always a prefix, so the retained seqs stay contiguous) and at most `maxRows` dedup
   * keys claimed before `keysBefore`. The head is written down first, so an emptied log still
   * knows it and never reuses a seq.
   */
  trimStep(cut: number, keysBefore: number, maxRows: number): TrimStep {
    const step = this.storage.transactionSync(() => {
      const oldest = this.position().oldest;
      const end = Math.min(cut, oldest + maxRows - 1);
      let removed = 0;
      const stats = { ...this.stats };
      if (end >= oldest) {
        this.setMeta("head", String(this.head));
        const freed = this.sql
          .exec<{ total: number }>("SELECT COALESCE(SUM(size), 0) AS total FROM events WHERE seq <= ?", end)
          .one().total;
        const trimmedAt = this.sql
          .exec<{ at: number }>("SELECT at FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT 1", end)
          .toArray()[0]?.at;
        if (trimmedAt !== undefined) this.setMeta("trimmed_at", String(trimmedAt));
        removed = this.sql.exec("DELETE FROM events WHERE seq <= ?", end).rowsWritten;
        stats.bytes -= freed;
        this.setMeta("stats", JSON.stringify(stats));
      }
      const removedKeys = this.sql.exec(
        "DELETE FROM dedup WHERE rowid IN (SELECT rowid FROM dedup WHERE at < ? ORDER BY at LIMIT ?)",
        keysBefore,
        maxRows,
      ).rowsWritten;
      // Trims remove a prefix: what remains starts right after it, or nothing remains.
      const remaining = removed > 0 ? (end < this.head ? end + 1 : null) : this.oldestStored;
      return { removed, removedKeys, more: end < cut || removedKeys === maxRows, stats, remaining };
    });
    this.stats = step.stats;
    this.oldestStored = step.remaining;
    return { removed: step.removed, removedKeys: step.removedKeys, more: step.more };
  }
}
