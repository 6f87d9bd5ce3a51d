import type { ConsumerLedger } from "../durable-objects/consumer-ledger.ts";
import type { DeadLetterStore } from "../durable-objects/dead-letter-store.ts";
import type { DemoNotifications } from "../durable-objects/demo-notifications.ts";
import type { DemoUsers } from "../durable-objects/demo-users.ts";
import type { TopicDirectory } from "../durable-objects/topic-directory.ts";
import type { TopicLog } from "../durable-objects/topic-log.ts";
import type { AuthVariables } from "./auth/access.ts";

/** Bindings and vars of the Worker (declared in wrangler.toml). */
export interface Env {
  TOPIC_LOG: DurableObjectNamespace<TopicLog>;
  TOPIC_DIRECTORY: DurableObjectNamespace<TopicDirectory>;
  ASSETS?: Fetcher;
  /** The demo's User Service database and Notification Service state (demo/, README: the demo in detail). */
  DEMO_USERS: DurableObjectNamespace<DemoUsers>;
  DEMO_NOTIFICATIONS: DurableObjectNamespace<DemoNotifications>;
  DELIVERY_QUEUE: Queue;
  /** Queue consumers: one idempotency ledger per consumer, and the queue dead letters (README: queue consumers). */
  CONSUMER_LEDGER: DurableObjectNamespace<ConsumerLedger>;
  DEAD_LETTERS: DurableObjectNamespace<DeadLetterStore>;
  QUEUE_RETRY_FIRST_DELAY_SECONDS?: string;
  QUEUE_RETRY_MAX_DELAY_SECONDS?: string;
  MAX_EVENT_BYTES?: string;
  MAX_BATCH_EVENTS?: string;
  MAX_BODY_BYTES?: string;
  DEDUP_WINDOW_SECONDS?: string;
  RETENTION_MAX_AGE_SECONDS?: string;
  RETENTION_MAX_EVENTS?: string;
  UNKNOWN_EVENT_TYPES?: string;
  REPLAY_PAGE_SIZE?: string;
  LIVE_MAX_UNACKED_CHARS?: string;
  LIVE_STALL_SECONDS?: string;
  /** JSON array of publisher keys (a secret: .dev.vars locally, `wrangler secret put` in production). */
  MESH_KEYS?: string;
  /** HMAC secret that signs subscriber tokens (a secret). */
  MESH_TOKEN_SECRET?: string;
  /** Comma-separated topic patterns anyone may subscribe to and read; empty by default. */
  PUBLIC_TOPICS?: string;
  /** Comma-separated origins browsers may call the API from (CORS); none by default. */
  CORS_ORIGINS?: string;
  /** Comma-separated hosts a webhook may target even though they are private or loopback (local development). */
  WEBHOOK_ALLOWED_HOSTS?: string;
  KEY_RATE_LIMITER: RateLimit;
  ADDRESS_RATE_LIMITER: RateLimit;
}

/** The hono app's environment: bindings plus what middleware sets for the handlers. */
export type AppEnv = { Bindings: Env; Variables: AuthVariables };
