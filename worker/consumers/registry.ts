import type { Consumer } from "./define-consumer.ts";

/** The consumers of one mesh, by name, and which of them handle an event type. */
export class ConsumerRegistry {
  readonly #byName = new Map<string, Consumer>();

  constructor(consumers: readonly Consumer[] = []) {
    this.register(...consumers);
  }

  /** Adds consumers; a name used twice is a programming error (ledgers and dead letters key on it). */
  register(...consumers: Consumer[]): void {
    for (const consumer of consumers) {
      const existing = this.#byName.get(consumer.name);
      if (existing !== undefined && existing !== consumer) {
        throw new Error(`a consumer named "${consumer.name}" is already registered`);
      }
      this.#byName.set(consumer.name, consumer);
    }
  }

  get(name: string): Consumer | undefined {
    return this.#byName.get(name);
  }

  /** Every consumer whose types include `type`, in registration order. */
  forType(type: string): Consumer[] {
    return [...this.#byName.values()].filter((c) => c.types.includes(type));
  }
}
