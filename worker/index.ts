import { createApp } from "./app.ts";
import type { Env } from "./env.ts";

export { DemoNotifications } from "../durable-objects/demo-notifications.ts";
export { DemoUsers } from "../durable-objects/demo-users.ts";
export { TopicDirectory } from "../durable-objects/topic-directory.ts";
export { TopicLog } from "../durable-objects/topic-log.ts";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
