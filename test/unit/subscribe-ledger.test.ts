import { describe, expect, it } from "vitest";
import { SubscribeLedger } from "../../client/subscribe-ledger.ts";

describe("SubscribeLedger: which frames belong to the newest subscribe", () => {
  it("takes a topic's frames only once the newest subscribe is answered", () => {
    const ledger = new SubscribeLedger();
    expect(ledger.current("a")).toBe(false);
    ledger.sent("a");
    expect(ledger.current("a")).toBe(false);
    expect(ledger.subscribed("a")).toBe(true);
    expect(ledger.current("a")).toBe(true);
    expect(ledger.current("b")).toBe(false);
  });

  it("skips the answers to subscribes already replaced", () => {
    const ledger = new SubscribeLedger();
    ledger.sent("a");
    ledger.sent("a");
    expect(ledger.subscribed("a")).toBe(false);
    expect(ledger.current("a")).toBe(false);
    expect(ledger.subscribed("a")).toBe(true);
    expect(ledger.current("a")).toBe(true);
    // A stray answer past the last subscribe changes nothing.
    expect(ledger.subscribed("a")).toBe(false);
  });

  it("counts a refusal as the answer to a subscribe, and as the end of a started subscription", () => {
    const ledger = new SubscribeLedger();
    ledger.sent("a");
    ledger.sent("a");
    expect(ledger.refused("a")).toBe(false);
    expect(ledger.refused("a")).toBe(true);
    ledger.sent("b");
    ledger.subscribed("b");
    expect(ledger.refused("b")).toBe(true);
    expect(ledger.refused("c")).toBe(false);
  });

  it("forgets a topic refused for good, and everything on a new connection", () => {
    const ledger = new SubscribeLedger();
    ledger.sent("a");
    ledger.sent("b");
    ledger.forget("a");
    expect(ledger.followed("a")).toBe(false);
    expect(ledger.followed("b")).toBe(true);
    ledger.reset();
    expect(ledger.followed("b")).toBe(false);
  });
});
