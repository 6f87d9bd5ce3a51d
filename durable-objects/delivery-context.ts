import type { SubscriptionConfig } from "../protocol/subscriptions.ts";
import type { LogStore, StoredRow } from "./log-store.ts";
import type { SubscriptionRow, SubscriptionStore } from "./subscription-store.ts";
import type { SendResult } from "./webhook-sender.ts";

/** An event as it is sent: its seq and its stored JSON. */
export type EventRow = Pick<StoredRow, "seq" | "body">;

/** What a delivery loop (strict or unordered) works with; the dispatcher provides it. */
export interface DeliveryContext {
  store: SubscriptionStore;
  log: LogStore;
  /** The topic's name, as stored when the object was first used. */
  topic: () => string;
  /** Re-arms the object's single alarm from the due times in SQLite. */
  arm: () => Promise<void>;
  /** One delivery of these events to the subscription's target. */
  send: (sub: SubscriptionRow, rows: EventRow[], attempt: number) => Promise<SendResult>;
  random?: () => number;
}

/** Beyond a send's own timeout: how long a claimed delivery waits before it counts as lost. */
const LEASE_MARGIN_MS = 5_000;
const QUEUE_SEND_LEASE_MS = 30_000;

/** How long a delivery is claimed: if the object dies while it is in flight, it is sent again after this. */
export function leaseMs(config: SubscriptionConfig): number {
  return (config.target.type === "webhook" ? config.target.timeoutMs : QUEUE_SEND_LEASE_MS) + LEASE_MARGIN_MS;
}
