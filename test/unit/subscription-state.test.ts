import { describe, expect, it } from "vitest";
import {
  type ConnectionInput,
  nextState,
  ResumeCursor,
  type SubscriptionState,
} from "../../client/subscription-state.ts";

describe("subscription state machine", () => {
  const run = (inputs: ConnectionInput[], from: SubscriptionState = "connecting") => {
    const seen: SubscriptionState[] = [];
    let state = from;
    for (const input of inputs) {
      state = nextState(state, input);
      seen.push(state);
    }
    return seen;
  };

  it("goes connecting → replaying → live, and through reconnecting after a drop", () => {
    expect(run(["open", "caught-up", "drop", "open", "caught-up"])).toEqual([
      "replaying",
      "live",
      "reconnecting",
      "replaying",
      "live",
    ]);
  });

  it("counts a failed first attempt as reconnecting", () => {
    expect(run(["drop", "drop", "open"])).toEqual(["reconnecting", "reconnecting", "replaying"]);
  });

  it("drops mid-replay to reconnecting", () => {
    expect(run(["open", "drop"])).toEqual(["replaying", "reconnecting"]);
  });

  it("ignores caught-up outside a replay and open while connected", () => {
    expect(run(["caught-up"])).toEqual(["connecting"]);
    expect(run(["open"], "live")).toEqual(["live"]);
  });

  it("ends in closed on a terminal refusal or close, and stays there", () => {
    expect(run(["open", "terminal", "open", "caught-up", "drop"])).toEqual([
      "replaying",
      "closed",
      "closed",
      "closed",
      "closed",
    ]);
    expect(run(["close"], "reconnecting")).toEqual(["closed"]);
  });
});

describe("resume cursor of an unfiltered subscription", () => {
  it("delivers the next seq and drops anything at or below lastSeq", () => {
    const cursor = new ResumeCursor(5, undefined, false);
    expect(cursor.event(6)).toBe("deliver");
    expect(cursor.event(6)).toBe("duplicate");
    expect(cursor.event(3)).toBe("duplicate");
    expect(cursor.event(7)).toBe("deliver");
    expect(cursor.lastSeq).toBe(7);
  });

  it("calls a jump a hole and does not move", () => {
    const cursor = new ResumeCursor(5, undefined, false);
    expect(cursor.event(8)).toBe("hole");
    expect(cursor.lastSeq).toBe(5);
    expect(cursor.event(6)).toBe("deliver");
  });

  it("calls a caught-up head beyond lastSeq a hole", () => {
    const cursor = new ResumeCursor(5, undefined, false);
    expect(cursor.caughtUp(9, "e1")).toBe("hole");
    expect(cursor.lastSeq).toBe(5);
    expect(cursor.caughtUp(5, "e1")).toBe("ok");
    expect(cursor.epoch).toBe("e1");
  });

  it("moves to oldest-1 on a gap, forward for retention and backward for a new epoch", () => {
    const cursor = new ResumeCursor(5, "e1", false);
    cursor.gap(40, "e1");
    expect(cursor.lastSeq).toBe(39);
    expect(cursor.event(40)).toBe("deliver");
    cursor.gap(1, "e2");
    expect(cursor).toMatchObject({ lastSeq: 0, epoch: "e2" });
    expect(cursor.event(1)).toBe("deliver");
  });
});

describe("resume cursor of a filtered subscription", () => {
  it("accepts jumps but still drops duplicates and old events", () => {
    const cursor = new ResumeCursor(0, undefined, true);
    expect(cursor.event(3)).toBe("deliver");
    expect(cursor.event(9)).toBe("deliver");
    expect(cursor.event(9)).toBe("duplicate");
    expect(cursor.event(4)).toBe("duplicate");
  });

  it("moves up to the caught-up head, since nothing in between matched", () => {
    const cursor = new ResumeCursor(9, undefined, true);
    expect(cursor.caughtUp(20, "e1")).toBe("ok");
    expect(cursor.lastSeq).toBe(20);
  });
});
