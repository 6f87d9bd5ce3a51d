/**
 * The mesh with the tests' own catalog, as an app would build it: what the end-to-end and
 * reliability servers run (their wrangler config is the root one, with this entry point).
 */
import { createMesh } from "../../worker/index.ts";
import { testCatalog } from "./test-catalog.ts";

export {
  ConsumerLedger,
  DeadLetterStore,
  SocketHub,
  TokenRevocations,
  TopicDirectory,
  TopicLog,
  TopicPresence,
} from "../../worker/index.ts";

export default createMesh({ catalog: testCatalog });
