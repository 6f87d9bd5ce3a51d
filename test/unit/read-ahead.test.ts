import { describe, expect, it } from "vitest";
import { ReadAhead } from "../../durable-objects/read-ahead.ts";

/** A log of seqs 1…head that counts its reads. */
function fakeLog(head: number) {
  const log = { head, reads: 0 };
  const read = (after: number, limit: number) => {
    log.reads += 1;
    const rows: { seq: number }[] = [];
    for (let seq = after + 1; seq <= log.head && rows.length < limit; seq++) rows.push({ seq });
    return rows;
  };
  return { log, read };
}

describe("ReadAhead", () => {
  it("serves one-row steps from a page read once", () => {
    const { log, read } = fakeLog(100);
    const ahead = new ReadAhead(read, 32);
    for (let cursor = 0; cursor < 31; cursor++) expect(ahead.take(cursor, 1)).toEqual([{ seq: cursor + 1 }]);
    expect(log.reads).toBe(1);
  });

  it("reads again when fewer rows are left than asked for, so appends since the read are seen", () => {
    const { log, read } = fakeLog(3);
    const ahead = new ReadAhead(read, 32);
    expect(ahead.take(0, 2)).toEqual([{ seq: 1 }, { seq: 2 }]);
    log.head = 5;
    expect(ahead.take(2, 2)).toEqual([{ seq: 3 }, { seq: 4 }]);
    expect(log.reads).toBe(2);
  });

  it("follows a cursor that jumps past what was read, and one that stays put", () => {
    const { log, read } = fakeLog(200);
    const ahead = new ReadAhead(read, 32);
    expect(ahead.take(0, 1)).toEqual([{ seq: 1 }]);
    expect(ahead.take(0, 1)).toEqual([{ seq: 1 }]);
    expect(ahead.take(150, 2)).toEqual([{ seq: 151 }, { seq: 152 }]);
    expect(log.reads).toBe(2);
  });
});
