import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { DEMO_VARS } from "./test/demo/support/demo-credentials.ts";

/** The demo's routes, Durable Objects and Notification Service inside workerd, with demo/wrangler.toml's bindings. */
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./demo/worker/index.ts",
      wrangler: { configPath: "./demo/wrangler.toml" },
      miniflare: {
        // The demo's keys and secrets; queue retries without delay.
        bindings: { ...DEMO_VARS, QUEUE_RETRY_FIRST_DELAY_SECONDS: "0" },
        ratelimits: {
          KEY_RATE_LIMITER: { simple: { limit: 1_000_000, period: 10 } },
          ADDRESS_RATE_LIMITER: { simple: { limit: 1_000_000, period: 10 } },
        },
        // These replace wrangler.toml's consumers: same retries and DLQ, shorter batch wait.
        queueConsumers: {
          "mesh-deliveries": {
            maxBatchSize: 10,
            maxBatchTimeout: 0.05,
            maxRetries: 3,
            deadLetterQueue: "mesh-deliveries-dlq",
          },
          "mesh-deliveries-dlq": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 20 },
        },
        // Lets tests call exports.default.queue(...) directly.
        compatibilityFlags: ["service_binding_extra_handlers"],
      },
    }),
  ],
  test: {
    name: "demo",
    include: ["test/demo/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
