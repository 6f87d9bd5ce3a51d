/**
 * The demo's Worker: the whole mesh, with the demo's catalog and its Notification Service, plus
 * the demo's own routes (`/demo/*`). The pages are static assets (wrangler.toml `[assets]`).
 */
import { createMesh, type Mesh } from "event-mesh";
import { catalog } from "../catalog.ts";
import { createDemoApp } from "./app.ts";
import type { DemoEnv } from "./env.ts";
import { notificationService } from "./notification-service.ts";

export * from "event-mesh/durable-objects";
export { NotificationStore } from "../durable-objects/notification-store.ts";
export { UserStore } from "../durable-objects/user-store.ts";

// The Notification Service publishes through this same mesh, in-process (the closure runs later).
const mesh: Mesh = createMesh({
  catalog,
  consumers: [notificationService((request, env, ctx) => mesh.fetch(request, env, ctx))],
});
const app = createDemoApp(mesh.fetch);

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: (batch, env, ctx) => mesh.queue(batch, env, ctx),
} satisfies ExportedHandler<DemoEnv>;
