import { defineConfig } from "vitest/config";

/**
 * End-to-end journeys in Node against a real local server (workerd via wrangler) and, for the
 * browser files, a real headless Chromium. Files run one at a time: each starts its own server.
 */
export default defineConfig({
  test: {
    name: "e2e",
    include: ["test/e2e/**/*.test.ts", "test/browser/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
