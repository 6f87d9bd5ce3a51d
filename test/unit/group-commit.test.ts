import { describe, expect, it } from "vitest";
import { GroupCommit, type StepOutcome } from "../../durable-objects/group-commit.ts";

describe("group commit", () => {
  it("runs calls submitted in separate turns as one step, answering each its own", async () => {
    const steps: number[][] = [];
    const group = new GroupCommit<number, number>(async (inputs) => {
      steps.push(inputs);
      return inputs.map((n): StepOutcome<number> => ({ ok: true, value: n * 10 }));
    });
    // Each caller in its own macrotask turn, as RPCs arrive: still one step.
    const answers = await Promise.all(
      [1, 2, 3].map((n) => new Promise<number>((resolve) => setImmediate(() => resolve(group.submit(n))))),
    );
    expect(answers).toEqual([10, 20, 30]);
    expect(steps).toEqual([[1, 2, 3]]);
  });

  it("fails only the call whose outcome failed", async () => {
    const group = new GroupCommit<number, number>(async (inputs) =>
      inputs.map((n) => (n === 2 ? { ok: false, error: new Error("bad 2") } : { ok: true, value: n })),
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => group.submit(n)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error("bad 2"));
  });

  it("fails every call of a step that fails as a whole, and the next step runs afresh", async () => {
    let fail = true;
    const group = new GroupCommit<number, number>(async (inputs) => {
      if (fail) throw new Error("storage down");
      return inputs.map((n) => ({ ok: true, value: n }));
    });
    const first = await Promise.allSettled([group.submit(1), group.submit(2)]);
    expect(first.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await group.submit(3)).toBe(3);
  });

  it("calls that arrive while a step awaits its write go into the next step", async () => {
    const steps: number[][] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const group = new GroupCommit<number, number>(async (inputs) => {
      steps.push(inputs);
      if (steps.length === 1) await held;
      return inputs.map((n) => ({ ok: true, value: n }));
    });
    const first = group.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = group.submit(2);
    const third = group.submit(3);
    await new Promise((resolve) => setTimeout(resolve, 5));
    release();
    expect(await Promise.all([first, second, third])).toEqual([1, 2, 3]);
    expect(steps).toEqual([[1], [2, 3]]);
  });
});
