/**
 * The browser client (`event-mesh/client`): follows topics live over WebSockets and resumes after
 * any disconnect. The publisher SDK is `event-mesh/publisher`, the preact hook `event-mesh/preact`.
 */
export type { Catalog, EmptyCatalog, EventData } from "../protocol/catalog.ts";
export type { GapFrame } from "../protocol/frames.ts";
export type { MeshEvent } from "../protocol/mesh-event.ts";
export { isEventType } from "../protocol/mesh-event.ts";
export type { CursorStorage, StoredCursor } from "./cursor-storage.ts";
export { cursorKey, memoryStorage, webStorage } from "./cursor-storage.ts";
export type { HeartbeatOptions } from "./heartbeat.ts";
export type { MeshClient, MeshClientOptions } from "./mesh-client.ts";
export { createMeshClient } from "./mesh-client.ts";
export type { SubscribeOptions, SubscriptionError, TokenSource } from "./subscription.ts";
export { Subscription } from "./subscription.ts";
export type { SubscriptionState } from "./subscription-state.ts";
