/**
 * The mesh deployed on its own (the root wrangler.toml): no catalog, so events of any type are
 * stored as published, and no queue consumers. An app brings its own with `createMesh`.
 */
import { createMesh } from "./create-mesh.ts";

export { ConsumerLedger } from "../durable-objects/consumer-ledger.ts";
export { DeadLetterStore } from "../durable-objects/dead-letter-store.ts";
export { SocketHub } from "../durable-objects/socket-hub.ts";
export { TokenRevocations } from "../durable-objects/token-revocations.ts";
export { TopicDirectory } from "../durable-objects/topic-directory.ts";
export { TopicLog } from "../durable-objects/topic-log.ts";
export { TopicPresence } from "../durable-objects/topic-presence.ts";

export default createMesh({ catalog: {} });
