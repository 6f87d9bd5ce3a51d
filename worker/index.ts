/**
 * The mesh as a library (`event-mesh`): build a Worker with `createMesh`, declare the app's events
 * with `defineCatalog` and its queue consumers with `defineConsumer`, and re-export the Durable
 * Object classes from the Worker's main module (docs/own-worker.md).
 */

export type { Catalog, CatalogType, EventData } from "../protocol/catalog.ts";
export { defineCatalog } from "../protocol/catalog.ts";
export type { MeshEvent } from "../protocol/mesh-event.ts";
export { isEventType } from "../protocol/mesh-event.ts";
export type { Env, MeshSecrets } from "../runtime/env.ts";
export type { Consumer, ConsumerContext, ConsumerDefinition } from "./consumers/define-consumer.ts";
export { defineConsumer } from "./consumers/define-consumer.ts";
export type { Mesh, MeshOptions } from "./create-mesh.ts";
export { createMesh } from "./create-mesh.ts";
export * from "./durable-object-classes.ts";
export type { MeshQueues } from "./queue-handler.ts";
