import type { Catalog } from "../protocol/catalog.ts";
import { registerAppCatalog } from "../runtime/app-catalog.ts";
import type { Env } from "../runtime/env.ts";
import { createApp } from "./app.ts";
import type { Consumer } from "./consumers/define-consumer.ts";
import { ConsumerRegistry } from "./consumers/registry.ts";
import { DEFAULT_QUEUES, handleQueue, type MeshQueues } from "./queue-handler.ts";

export interface MeshOptions<C extends Catalog> {
  /** The app's event types and the schemas of their data (`defineCatalog`). */
  catalog: C;
  /** Queue consumers (`defineConsumer`), fed by durable subscriptions with a queue target. */
  consumers?: readonly Consumer[];
  /** Names of the delivery queue and its dead-letter queue, if not `mesh-deliveries` and `mesh-deliveries-dlq`. */
  queues?: Partial<MeshQueues>;
}

/** The Worker handlers of a mesh: export it as the Worker's default export. */
export interface Mesh {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response>;
  queue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void>;
}

/**
 * The whole mesh for an app: the HTTP API and WebSockets (`fetch`) and the queue consumers
 * (`queue`), checking events against the app's catalog. The app's Worker module exports the
 * result as its default export and re-exports the mesh's Durable Object classes.
 */
export function createMesh<C extends Catalog>(options: MeshOptions<C>): Mesh {
  const app = createApp({ catalog: options.catalog });
  // The hubs check events published on sockets against the same catalog (runtime/app-catalog.ts).
  registerAppCatalog(options.catalog);
  const registry = new ConsumerRegistry(options.consumers);
  const queues = { ...DEFAULT_QUEUES, ...options.queues };
  return {
    fetch: async (request, env, ctx) => app.fetch(request, env, ctx),
    queue: (batch, env, ctx) => handleQueue(batch, env, ctx, registry, queues),
  };
}
