import { createMesh, defineConsumer } from "../../../worker/index.ts";
import { testCatalog } from "../../support/test-catalog.ts";

// The mesh with the tests' catalog, plus one queue consumer for the soak (npm run soak). The
// consumer reports every call to the soak harness over HTTP and fails some of them on purpose.
export * from "../../../worker/durable-object-classes.ts";

const SOAK_CONSUMER = "soak-consumer";

interface SoakVars {
  /** The harness's receiver of consumer calls and effects. */
  SOAK_EFFECTS_URL?: string;
  /** Percent of calls that fail (decided per event id and attempt, so reruns behave alike). */
  SOAK_FAIL_PERCENT?: string;
  /** "1" once the soak is draining: "poison" events stop failing. */
  SOAK_HEALED?: string;
}

/** FNV-1a: a stable pseudo-random number per string. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const soakConsumer = defineConsumer(testCatalog, {
  name: SOAK_CONSUMER,
  types: ["AttemptFailed"],
  async handler(event, ctx) {
    const vars = ctx.env as unknown as SoakVars;
    const failPercent = Number(vars.SOAK_FAIL_PERCENT ?? "0");
    const fail =
      event.data.error === "poison" ? vars.SOAK_HEALED !== "1" : hash(`${event.id}:${ctx.attempt}`) % 100 < failPercent;
    const res = await fetch(`${vars.SOAK_EFFECTS_URL}/${fail ? "failed" : "effect"}`, {
      method: "POST",
      body: JSON.stringify({ topic: ctx.topic, seq: ctx.seq, id: event.id, attempt: ctx.attempt }),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`the soak harness answered ${res.status}`);
    if (fail) throw new Error(`soak: call ${ctx.attempt} of ${event.id} fails on purpose`);
  },
});

export default createMesh({ catalog: testCatalog, consumers: [soakConsumer] });
