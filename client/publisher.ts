/**
 * The publisher SDK (`event-mesh/publisher`) for Workers and browsers: it sends with the global
 * fetch. Node resolves the same name to `node/publisher-node.ts`, with the same API.
 */
import type { Catalog, EmptyCatalog } from "../protocol/catalog.ts";
import { type Publisher, type PublisherOptions, publisherOver } from "./create-publisher.ts";
import { fetchTransport } from "./publish-transport.ts";

export type {
  PublishEvent,
  Publisher,
  PublisherOptions,
  PublishOptions,
  RetryOptions,
} from "./create-publisher.ts";
export { retryAfterMs } from "./create-publisher.ts";
export type { CoalesceOptions } from "./publish-coalescer.ts";
export { PublishError, type PublishErrorCode } from "./publish-error.ts";

// Workers refuse a detached global fetch ("Illegal invocation"): it is called through globalThis.
const globalFetch = () => fetchTransport((input, init) => globalThis.fetch(input, init));

/** A publisher, typed by the app's catalog (`createPublisher<typeof catalog>(…)`, a type-only import). */
export function createPublisher<C extends Catalog = EmptyCatalog>(options: PublisherOptions): Publisher<C> {
  return publisherOver<C>(options, globalFetch);
}
