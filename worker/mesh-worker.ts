/**
 * The mesh deployed on its own (the root wrangler.toml): no catalog, so events of any type are
 * stored as published, and no queue consumers. An app brings its own with `createMesh`.
 */
import { createMesh } from "./create-mesh.ts";

// Named, not \`export *\`: \`wrangler types\` reads this module's exports to type each binding's stub.
export {
  ConsumerLedger,
  DeadLetterStore,
  SocketHub,
  TokenRevocations,
  TopicDirectory,
  TopicLog,
  TopicPresence,
} from "./durable-object-classes.ts";

export default createMesh({ catalog: {} });
