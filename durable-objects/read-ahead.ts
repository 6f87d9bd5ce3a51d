/**
 * The rows after a cursor, read from the log a page at a time for a loop that takes fewer per step
 * (a subscription delivering one event per request would otherwise read SQLite before every send).
 * What was read stays valid: the log only grows at its end and is trimmed from its start, and a
 * trim past the cursor is caught by the caller before it asks (it checks the oldest seq first).
 */
export class ReadAhead<T extends { seq: number }> {
  private rows: T[] = [];
  private next = 0;

  constructor(
    private readonly read: (after: number, limit: number) => T[],
    private readonly pageSize: number,
  ) {}

  /** The first `limit` rows after `cursor`, from what was read ahead while it holds that many. */
  take(cursor: number, limit: number): T[] {
    while (this.next < this.rows.length && (this.rows[this.next] as T).seq <= cursor) this.next += 1;
    // Fewer left than asked for: appends since the read may have added the rest, so read again.
    if (this.rows.length - this.next < limit) {
      this.rows = this.read(cursor, Math.max(limit, this.pageSize));
      this.next = 0;
    }
    return this.rows.slice(this.next, this.next + limit);
  }
}
