import type { TopicDirectory } from "../durable-objects/topic-directory.ts";
import type { TopicLog } from "../durable-objects/topic-log.ts";

/** Bindings and vars of the Worker (declared in wrangler.toml). */
export interface Env {
  TOPIC_LOG: DurableObjectNamespace<TopicLog>;
  TOPIC_DIRECTORY: DurableObjectNamespace<TopicDirectory>;
  ASSETS?: Fetcher;
  DELIVERY_QUEUE: Queue;
  MAX_EVENT_BYTES?: string;
  MAX_BATCH_EVENTS?: string;
  MAX_BODY_BYTES?: string;
  DEDUP_WINDOW_SECONDS?: string;
  RETENTION_MAX_AGE_SECONDS?: string;
  RETENTION_MAX_EVENTS?: string;
  UNKNOWN_EVENT_TYPES?: string;
  REPLAY_PAGE_SIZE?: string;
}
