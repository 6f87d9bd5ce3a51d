import { defineConfig } from "vitest/config";

/**
 * Reliability scenarios in Node against real local servers (issue 9): crashes, cuts, load, slow
 * readers, failing receivers. Files run one at a time: each starts its own server, and the machine
 * has two cores. The scenarios that run inside workerd are in the workers layer (test/reliability/workers).
 */
export default defineConfig({
  test: {
    name: "reliability",
    include: ["test/reliability/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
