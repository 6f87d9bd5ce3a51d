import { describe, expect, it } from "vitest";
import { SerialChains } from "../../durable-objects/serial-chains.ts";

describe("SerialChains: a topic's frames answered in order while a rewind is resolved", () => {
  it("runs a later step of the same topic after the rewind before it, other topics at once", async () => {
    const session = "s1";
    const turns = new SerialChains();
    const order: string[] = [];
    let resolveRewind: () => void = () => undefined;
    turns.run(session, "a", () => {
      order.push("a: rewind asked");
      return new Promise<void>((resolve) => {
        resolveRewind = () => {
          order.push("a: rewind answered");
          resolve();
        };
      });
    });
    turns.run(session, "a", () => {
      order.push("a: unsubscribe");
      return undefined;
    });
    turns.run(session, "b", () => {
      order.push("b: subscribe");
      return undefined;
    });
    expect(order).toEqual(["a: rewind asked", "b: subscribe"]);
    resolveRewind();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(order).toEqual(["a: rewind asked", "b: subscribe", "a: rewind answered", "a: unsubscribe"]);
    // Nothing is waiting any more: the next step runs at once.
    turns.run(session, "a", () => {
      order.push("a: subscribe");
      return undefined;
    });
    expect(order.at(-1)).toBe("a: subscribe");
  });

  it("a failed rewind does not hold the topic's later frames", async () => {
    const session = "s1";
    const turns = new SerialChains();
    const order: string[] = [];
    turns.run(session, "a", () => Promise.reject(new Error("unreachable")));
    turns.run(session, "a", () => {
      order.push("a: subscribe");
      return undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(order).toEqual(["a: subscribe"]);
  });
});

describe("SerialChains: a socket's publishes", () => {
  it("runs one socket's tasks one after another, another socket's beside them, and goes on after a failure", async () => {
    const queue = new SerialChains();
    const [one, two] = ["s1", "s2"];
    const order: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        order.push(name);
        if (fail) throw new Error(name);
      };
    await Promise.allSettled([
      queue.run(one, "publish", task("one-a", 30, true)),
      queue.run(one, "publish", task("one-b", 1)),
      queue.run(two, "publish", task("two-a", 10)),
    ]);
    expect(order).toEqual(["two-a", "one-a", "one-b"]);
  });
});
