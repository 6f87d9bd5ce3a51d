import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { AUTH_VARS } from "./test/support/credentials.ts";

/** Route, Durable Object and queue tests inside workerd, with the real wrangler.toml bindings. */
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./test/workers/support/pool-worker.ts",
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
    name: "workers",
    // Reliability scenarios that run inside workerd (issue 9) live beside the Node ones.
    include: ["test/workers/**/*.test.ts"],
    // A real HTTP webhook receiver on 127.0.0.1 for subscription tests (its URL via inject()).
    globalSetup: ["./test/support/webhook-receiver-setup.ts"],
    testTimeout: 60_000,
  },
});
