import { defineConsumer } from "../../../../worker/consumers/define-consumer.ts";
import { testCatalog } from "../../../support/test-catalog.ts";

/**
 * A queue consumer of the pool's Worker (tests share its isolate, so the real queue path calls
 * it). Each event's `data.error` says how it behaves: `ok`, `fail-<n>` (throws
 * on its first n calls) or `poison` (throws until `heal()`). It records each effect with its seq.
 */
export const FLAKY_CONSUMER = "reliability-flaky";
const FLAKY_TYPE = "AttemptFailed" as const;

export type Plan = "ok" | `fail-${number}` | "poison";

const calls = new Map<string, number>();
/** Seqs of the effects, in the order they happened, per topic. */
const effects = new Map<string, number[]>();
let healed = false;

export const flakyConsumer = defineConsumer(testCatalog, {
  name: FLAKY_CONSUMER,
  types: [FLAKY_TYPE],
  async handler(event, ctx) {
    const key = `${ctx.topic}/${event.id}`;
    const call = (calls.get(key) ?? 0) + 1;
    calls.set(key, call);
    const plan = event.data.error as Plan;
    if (plan === "poison" && !healed) throw new Error(`poisoned event ${event.id}`);
    if (plan.startsWith("fail-") && call <= Number(plan.slice(5))) {
      throw new Error(`call ${call} of ${event.id} fails on purpose`);
    }
    effects.set(ctx.topic, [...(effects.get(ctx.topic) ?? []), ctx.seq]);
  },
});

/** The data of an event that behaves as `plan`. */
export function planned(plan: Plan, n: number) {
  return { type: FLAKY_TYPE, data: { userId: `u${n}`, attempt: 1, error: plan } };
}

export function effectSeqs(topic: string): number[] {
  return effects.get(topic) ?? [];
}

export function callCount(): number {
  return [...calls.values()].reduce((a, b) => a + b, 0);
}

export function heal(): void {
  healed = true;
}
