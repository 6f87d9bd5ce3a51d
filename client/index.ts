/**
 * The browser client (`event-mesh/client`): follows topics live over WebSockets and resumes after
 * any disconnect. The publisher SDK is `event-mesh/publisher`, the preact hook `event-mesh/preact`.
 *
 * It also carries what browser code shares with the app's server without importing it: the
 * types of the HTTP API's answers (for a backend or a console calling it with fetch), the
 * topic-name rule (to check a name before subscribing, which throws on a bad one), and
 * `defineCatalog`, so a catalog module the pages import (for its types or its schemas) never pulls
 * the server into the pages' bundle or type-check. Everything here type-checks without DOM types.
 */
export type { TokenRequest, TokenResponse } from "../protocol/auth.ts";
export type { Catalog, EmptyCatalog, EventData } from "../protocol/catalog.ts";
export { defineCatalog } from "../protocol/catalog.ts";
export type { DeadLetterList } from "../protocol/dead-letter-api.ts";
export type { DeadLetter } from "../protocol/dead-letters.ts";
export type { ErrorBody, ErrorCode } from "../protocol/error-codes.ts";
export type { EventFilter } from "../protocol/event-filter.ts";
export type { GapFrame } from "../protocol/frames.ts";
export type { MeshEvent } from "../protocol/mesh-event.ts";
export { isEventType } from "../protocol/mesh-event.ts";
export type { Occupancy, PresenceMember, PresenceMode, PresencePage } from "../protocol/presence.ts";
export type { HistoryPage, PublishResponse, TopicInfo } from "../protocol/responses.ts";
export type { SubscriptionConfigInput, SubscriptionView } from "../protocol/subscriptions.ts";
export { isValidTopicName, TOPIC_NAME_RULE } from "../protocol/topic-name.ts";
export type { CursorStorage, KeyValueStorage, StoredCursor } from "./cursor-storage.ts";
export { cursorKey, memoryStorage, webStorage } from "./cursor-storage.ts";
export type { HeartbeatOptions } from "./heartbeat.ts";
export type { MeshClient, MeshClientOptions } from "./mesh-client.ts";
export { createMeshClient } from "./mesh-client.ts";
export type { PresenceOptions, PresenceView } from "./presence.ts";
export { Presence } from "./presence.ts";
export { PublishError, type PublishErrorCode } from "./publish-error.ts";
export type { SocketPublishResult } from "./publish-ledger.ts";
export type { SubscribeOptions } from "./subscription.ts";
export { Subscription } from "./subscription.ts";
export type { SubscriptionState } from "./subscription-state.ts";
export type { ConnectionMode, SubscriptionError, TokenSource } from "./transport.ts";
