import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { handleQueue } from "./queue-handler.ts";
// Registers the demo's Notification Service as a queue consumer.
import "./demo/notification-service.ts";

export { ConsumerLedger } from "../durable-objects/consumer-ledger.ts";
export { DeadLetterStore } from "../durable-objects/dead-letter-store.ts";
export { DemoNotifications } from "../durable-objects/demo-notifications.ts";
export { DemoUsers } from "../durable-objects/demo-users.ts";
export { TopicDirectory } from "../durable-objects/topic-directory.ts";
export { TopicLog } from "../durable-objects/topic-log.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
} satisfies ExportedHandler<Env>;
