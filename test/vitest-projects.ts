import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import type { TestProjectInlineConfiguration } from "vitest/config";
import { MESH_LOGS } from "./mesh-logs.ts";
import { TEST_SERVER_VARS } from "./support/credentials.ts";

type ProjectTest = NonNullable<TestProjectInlineConfiguration["test"]> & { name: string };

/** Tags any test may carry (vitest refuses others). */
const TAGS = [{ name: MESH_LOGS, description: "show the mesh's log lines in the output" }];

/**
 * Test files run two at a time in every project, one per core of the 2-core machine (vitest's own
 * default there is one): much of a file's time is waiting (a workerd or a server starting, queue
 * backoff, a client's next move), and two overlap it. The same in every project, since vitest
 * refuses projects of one run (`npm run test:fast`) that differ in it.
 */
const MAX_WORKERS = 2;

/** A project of test files that run in Node. */
export function nodeProject(test: ProjectTest): TestProjectInlineConfiguration {
  return { test: { environment: "node", tags: TAGS, maxWorkers: MAX_WORKERS, ...test } };
}

export interface WorkersProjectOptions {
  /** The Worker module the pool runs the tests beside (default: the mesh with the tests' catalog and consumers). */
  main?: string;
  /** Its wrangler config (default: the mesh's own). */
  configPath?: string;
  /** Bindings over the test keys (another app's own secrets). */
  bindings?: Record<string, string>;
  test: ProjectTest;
}

/**
 * A project of test files that run inside workerd (@cloudflare/vitest-pool-workers), with the
 * Worker's real wrangler bindings plus the test keys, no rate limits and fast queues.
 */
export function workersProject({
  main = "./test/workers/support/pool-worker.ts",
  configPath = "./wrangler.toml",
  bindings = {},
  test,
}: WorkersProjectOptions): TestProjectInlineConfiguration {
  return {
    plugins: [
      cloudflareTest({
        main,
        wrangler: { configPath },
        miniflare: {
          bindings: {
            RETENTION_MAX_EVENTS: "1000000",
            // Small replay pages so WebSocket replays in tests really span several pages.
            REPLAY_PAGE_SIZE: "10",
            // Four attempts reach 8 hubs: the test that fills every hub the Worker may try fills 8, not 1,024.
            HUB_CONNECT_ATTEMPTS: "4",
            QUEUE_RETRY_FIRST_DELAY_SECONDS: "0",
            // Test keys and token secret; webhooks may reach the local receiver.
            ...TEST_SERVER_VARS,
            ...bindings,
          },
          // Rate limits are exercised against a real server in test/e2e/security.test.ts.
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
    test: { testTimeout: 60_000, tags: TAGS, maxWorkers: MAX_WORKERS, ...test },
  };
}
