import { describe, expect, it } from "vitest";
import { checkAcks, checkDeliveries, checkLog, type LoggedEvent, seqsUpTo } from "../support/invariants.ts";

const event = (seq: number, id = `e${seq}`, source = "s"): LoggedEvent => ({
  seq,
  id,
  source,
  type: "T",
});

describe("the invariant checker catches what it must", () => {
  it("passes a contiguous log with distinct keys, and reports holes, extras and repeated (source, id)", () => {
    expect(checkLog("t", 3, [event(1), event(2), event(3)]).violations).toEqual([]);
    const holed = checkLog("t", 3, [event(1), event(3)]);
    expect(holed.gaps).toBeGreaterThan(0);
    expect(holed.violations.length).toBeGreaterThan(0);
    const doubled = checkLog("t", 3, [event(1), event(2, "x"), event(3, "x")]);
    expect(doubled.duplicates).toBe(1);
    expect(doubled.violations).toEqual(["t: (s, x) at seq 2 and 3"]);
    // The same id from another source is another event.
    expect(checkLog("t", 2, [event(1, "x", "a"), event(2, "x", "b")]).duplicates).toBe(0);
    // A trimmed start is fine when said so.
    expect(checkLog("t", 5, [event(4), event(5)], 4).violations).toEqual([]);
  });

  it("finds an acknowledged event that is missing or stored at another seq", () => {
    const logs = new Map([["t", [event(1), event(2)]]]);
    expect(checkAcks([{ topic: "t", id: "e2", source: "s", seq: 2 }], logs).missing).toBe(0);
    expect(checkAcks([{ topic: "t", id: "e2", source: "s", seq: 1 }], logs).missing).toBe(1);
    expect(checkAcks([{ topic: "t", id: "e3", source: "s", seq: 3 }], logs).missing).toBe(1);
    expect(checkAcks([{ topic: "u", id: "e1", source: "s", seq: 1 }], logs).missing).toBe(1);
  });

  it("dedups deliveries by seq, and reports missing, unexpected and out-of-order ones", () => {
    const ok = checkDeliveries("sub", [1, 2, 2, 3], { expected: seqsUpTo(3) });
    expect(ok).toMatchObject({ received: 4, distinct: 3, redelivered: 1, violations: [] });
    expect(checkDeliveries("sub", [1, 3], { expected: seqsUpTo(3) })).toMatchObject({ missing: 1 });
    expect(checkDeliveries("sub", [1, 2, 3, 4], { expected: seqsUpTo(3) })).toMatchObject({ unexpected: 1 });
    expect(checkDeliveries("sub", [1, 3, 2], { expected: seqsUpTo(3) })).toMatchObject({ outOfOrder: 1 });
    // A redriven dead letter may come late; a queue promises no order at all.
    expect(checkDeliveries("sub", [1, 3, 2], { expected: seqsUpTo(3), lateAllowed: new Set([2]) }).violations).toEqual(
      [],
    );
    expect(checkDeliveries("q", [3, 1, 2], { expected: seqsUpTo(3), ordered: false }).violations).toEqual([]);
  });
});
