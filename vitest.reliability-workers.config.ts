import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { AUTH_VARS } from "./test/support/credentials.ts";

/** Reliability scenarios inside workerd (issue 9), with the same bindings as the workers layer. */
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./worker/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // Small replay pages so WebSocket replays in tests really span several pages.
        bindings: {
          RETENTION_MAX_EVENTS: "1000000",
          REPLAY_PAGE_SIZE: "10",
          QUEUE_RETRY_FIRST_DELAY_SECONDS: "0",
          // Test keys and token secret (test/support/credentials.ts); webhooks may reach the local receiver.
          ...AUTH_VARS,
          WEBHOOK_ALLOWED_HOSTS: "127.0.0.1,localhost",
        },
        // Rate limits are exercised against a real server in test/e2e/rate-limits.test.ts.
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
    name: "reliability-workers",
    // Reliability scenarios that run inside workerd (issue 9) live beside the Node ones.
    include: ["test/reliability/workers/**/*.test.ts"],
    // do-abort.test.ts passes but leaves the pool unable to shut down after abortAllDurableObjects();
    // run it by hand: npx vitest run -c vitest.reliability-workers.config.ts test/reliability/workers/do-abort.test.ts
    exclude: ["test/reliability/workers/do-abort.test.ts"],
    // One file at a time: a scenario aborts every Durable Object, which must not cut another file's.
    fileParallelism: false,
    // A real HTTP webhook receiver on 127.0.0.1 for subscription tests (its URL via inject()).
    globalSetup: ["./test/support/webhook-receiver-setup.ts"],
    testTimeout: 60_000,
  },
});
