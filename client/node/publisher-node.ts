/**
 * The publisher SDK as Node resolves `event-mesh/publisher` (the `node` export condition): the API
 * of `publisher.ts`, sending over `node:http` / `node:https` with kept-alive connections unless the
 * options give a fetch.
 */
import type { Catalog, EmptyCatalog } from "../../protocol/catalog.ts";
import { type Publisher, type PublisherOptions, publisherOver } from "../create-publisher.ts";
import { nodeTransport } from "./node-transport.ts";

export * from "../publisher.ts";

/** A publisher, typed by the app's catalog (`createPublisher<typeof catalog>(…)`, a type-only import). */
export function createPublisher<C extends Catalog = EmptyCatalog>(options: PublisherOptions): Publisher<C> {
  return publisherOver<C>(options, nodeTransport);
}
