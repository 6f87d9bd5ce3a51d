import { defineConfig } from "vitest/config";
import workers from "./vitest.workers.config.ts";

/** Reliability scenarios inside workerd (issue 9), with the same bindings as the workers layer. */
export default defineConfig({
  ...workers,
  test: {
    ...workers.test,
    name: "reliability-workers",
    include: ["test/reliability/workers/**/*.test.ts"],
    // One file at a time: one scenario aborts Durable Objects mid-delivery, another floods the Worker.
    fileParallelism: false,
  },
});
