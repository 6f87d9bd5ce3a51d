import { env } from "cloudflare:workers";
import { defineConsumer } from "../../../worker/consumers/define-consumer.ts";
import { consumers } from "../../../worker/consumers/registry.ts";

// The mesh's own Worker, plus one queue consumer for the soak (npm run soak). The consumer reports
// every call to the soak harness over HTTP and fails some of them on purpose.
export * from "../../../worker/index.ts";
export { default } from "../../../worker/index.ts";

// Only handlers and classes may be exported from a Worker module.
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

consumers.register(
  defineConsumer({
    name: SOAK_CONSUMER,
    types: ["NotificationAttemptFailed"],
    async handler(event, ctx) {
      const vars = env as unknown as SoakVars;
      const failPercent = Number(vars.SOAK_FAIL_PERCENT ?? "0");
      const fail =
        event.data.error === "poison"
          ? vars.SOAK_HEALED !== "1"
          : hash(`${event.id}:${ctx.attempt}`) % 100 < failPercent;
      const res = await fetch(`${vars.SOAK_EFFECTS_URL}/${fail ? "failed" : "effect"}`, {
        method: "POST",
        body: JSON.stringify({ topic: ctx.topic, seq: ctx.seq, id: event.id, attempt: ctx.attempt }),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`the soak harness answered ${res.status}`);
      if (fail) throw new Error(`soak: call ${ctx.attempt} of ${event.id} fails on purpose`);
    },
  }),
);
