/**
 * Every Durable Object class of the mesh. A Worker built on the mesh re-exports them all from its
 * main module (`export * from "event-mesh/durable-objects"`), so a class added here needs no change
 * in the apps' code, only its binding and migration in their wrangler.toml.
 */
export { ConsumerLedger } from "../durable-objects/consumer-ledger.ts";
export { DeadLetterStore } from "../durable-objects/dead-letter-store.ts";
export { SocketHub } from "../durable-objects/socket-hub.ts";
export { TokenRevocations } from "../durable-objects/token-revocations.ts";
export { TopicDirectory } from "../durable-objects/topic-directory.ts";
export { TopicLog } from "../durable-objects/topic-log.ts";
export { TopicPresence } from "../durable-objects/topic-presence.ts";
