import * as v from "valibot";
import { type Catalog, type CatalogType, isCatalogType } from "../../protocol/catalog.ts";
import { CONSUMER_NAME_RULE, isValidConsumerName } from "../../protocol/consumer-name.ts";
import type { JsonObject } from "../../protocol/json.ts";
import type { MeshEvent } from "../../protocol/mesh-event.ts";
import type { Env } from "../../runtime/env.ts";

/** Where a message came from and how often it was tried; `log` writes JSON lines with the trace context. */
export interface ConsumerContext {
  consumer: string;
  topic: string;
  seq: number;
  subscription: string;
  /** 1 on the first delivery of this message; a redrive starts again at 1. */
  attempt: number;
  traceparent?: string;
  /** The Worker's bindings, typed by the app's `wrangler types`. */
  env: Env;
  /** The queue invocation's context: `waitUntil`, or calling the mesh's own `fetch` in-process. */
  executionCtx: ExecutionContext;
  log(msg: string, fields?: Record<string, unknown>): void;
}

export interface ConsumerDefinition<C extends Catalog, T extends CatalogType<C>> {
  name: string;
  types: readonly T[];
  /** Throwing (or rejecting) fails this attempt: the message is retried, then dead-lettered. */
  handler: (event: MeshEvent<C, T>, ctx: ConsumerContext) => Promise<void>;
}

/** A declared consumer with its event types erased, as the registry and the queue handler see it. */
export interface Consumer {
  readonly name: string;
  readonly types: readonly string[];
  /** Checks `data` against the catalog (a mismatch fails the attempt), then runs the handler. */
  handle(event: JsonObject, ctx: ConsumerContext): Promise<void>;
}

/**
 * Declares a queue consumer of an app: its name, the catalog event types it handles and its
 * handler, whose event is typed by the catalog. A bad declaration is a programming error, so it
 * throws when the module loads rather than at delivery.
 */
export function defineConsumer<C extends Catalog, const T extends CatalogType<C>>(
  catalog: C,
  definition: ConsumerDefinition<C, T>,
): Consumer {
  const { name, types, handler } = definition;
  if (!isValidConsumerName(name)) throw new Error(`consumer name "${name}" breaks the rule: ${CONSUMER_NAME_RULE}`);
  if (types.length === 0) throw new Error(`consumer "${name}" handles no event types`);
  for (const type of types) {
    if (!isCatalogType(catalog, type)) throw new Error(`consumer "${name}": "${type}" is not a catalog event type`);
  }
  return {
    name,
    types,
    async handle(event, ctx) {
      const type = event.type as T;
      if (!types.includes(type)) throw new Error(`consumer "${name}" does not handle events of type "${String(type)}"`);
      const data = v.parse(catalog[type], event.data);
      await handler({ ...event, data } as unknown as MeshEvent<C, T>, ctx);
    },
  };
}
