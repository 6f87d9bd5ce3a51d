import type { StoredRow } from "./log-store.ts";
import { type RowFilter, takesRow } from "./row-filter.ts";

/**
 * The most recent rows of one topic's log, contiguous and in seq order, held in memory: a hub
 * serves resuming sockets from it without asking the topic. It always knows where the log it
 * mirrors stands (`head`), even when it holds no rows, so a window that is empty right after a
 * restart still covers a cursor at the head. Bounded by row count and by characters.
 */
export class RowWindow {
  /** Held rows from `start` on; slots before `start` are emptied as rows are dropped. */
  private rows: (StoredRow | undefined)[] = [];
  private start = 0;
  private charCount = 0;

  /**
   * @param head the seq the window starts after: it holds nothing yet, and covers only `head`.
   */
  constructor(
    private headSeq: number,
    private readonly maxRows: number,
    private readonly maxChars: number,
  ) {}

  /** Seq of the newest row the log holds as far as the window knows. */
  get head(): number {
    return this.headSeq;
  }

  /** Seq of the oldest row held; `head + 1` when none is held. */
  get first(): number {
    return this.headSeq - this.size + 1;
  }

  get size(): number {
    return this.rows.length - this.start;
  }

  get chars(): number {
    return this.charCount;
  }

  /** True when every row after `after` up to the head is held (or there is none). */
  covers(after: number): boolean {
    return after + 1 >= this.first && after <= this.headSeq;
  }

  /**
   * Appends rows that continue the log. Rows at or below the head are skipped; rows that start past
   * `head + 1` (the log was trimmed in between) restart the window at them.
   */
  append(rows: readonly StoredRow[]): void {
    for (const row of rows) {
      if (row.seq <= this.headSeq) continue;
      if (row.seq !== this.headSeq + 1) this.clear(row.seq - 1);
      this.rows.push(row);
      this.charCount += row.body.length;
      this.headSeq = row.seq;
    }
    this.trim();
  }

  /**
   * Puts older rows in front when they reach the oldest held one (a page read from the log for a
   * resuming socket; rows the window holds already are skipped), as many of the newest of them as
   * the bounds leave room for.
   */
  prepend(rows: readonly StoredRow[]): void {
    let last = rows.length - 1;
    while (last >= 0 && rows[last].seq >= this.first) last -= 1;
    if (last < 0 || rows[last].seq !== this.first - 1) return;
    const kept: StoredRow[] = [];
    let chars = this.charCount;
    for (let i = last; i >= 0; i -= 1) {
      const row = rows[i];
      if (this.size + kept.length >= this.maxRows || chars + row.body.length > this.maxChars) break;
      if (i < last && row.seq !== rows[i + 1].seq - 1) break;
      kept.push(row);
      chars += row.body.length;
    }
    if (kept.length === 0) return;
    kept.reverse();
    this.rows = [...kept, ...this.rows.slice(this.start)];
    this.start = 0;
    this.charCount = chars;
  }

  /** Up to `limit` held rows after `after` (of `types` and taken by `filter` when given), in seq order. */
  after(after: number, limit: number, types?: readonly string[], filter: RowFilter | null = null): StoredRow[] {
    const from = this.start + Math.max(0, after + 1 - this.first);
    const out: StoredRow[] = [];
    for (let i = from; i < this.rows.length && out.length < limit; i += 1) {
      const row = this.rows[i] as StoredRow;
      if (takesRow(row, types, filter)) out.push(row);
    }
    return out;
  }

  /** Forgets every row; the window then starts after `head`. */
  clear(head: number): void {
    this.rows = [];
    this.start = 0;
    this.charCount = 0;
    this.headSeq = head;
  }

  private trim(): void {
    while (this.size > 0 && (this.size > this.maxRows || this.charCount > this.maxChars)) {
      this.charCount -= (this.rows[this.start] as StoredRow).body.length;
      // Released now, not at the next compaction: a slot that kept its row held up to 1,024 rows
      // past the bounds (3 MB of 2 KB events over a 1 MiB window), each long enough to be promoted
      // to the isolate's old generation.
      this.rows[this.start] = undefined;
      this.start += 1;
    }
    // Emptied slots are removed in bulk, so trimming one row at a time costs no array copy each.
    if (this.start > 1024 && this.start * 2 > this.rows.length) {
      this.rows = this.rows.slice(this.start);
      this.start = 0;
    }
  }
}
