import type { MeshEvent } from "event-mesh/client";
import type { StoredUserRegistered } from "../../api-shapes.ts";
import type { DemoCatalog } from "../../catalog.ts";

/** What the Notification Service publishes to a user's topic, which the signup page follows. */
export const NOTIFICATION_TYPES = ["NotificationAttemptFailed", "WelcomeEmailSent"] as const;
export type NotificationEvent = MeshEvent<DemoCatalog, (typeof NOTIFICATION_TYPES)[number]>;

/** One event of a signup's flow, with the topic it sits in. */
export interface FlowItem {
  topic: string;
  event: StoredUserRegistered | NotificationEvent;
}

/** The id of the event that caused `item`'s, whether or not it is on screen. */
export function causationOf(item: FlowItem): string | null {
  return typeof item.event.causationid === "string" ? item.event.causationid : null;
}

/** The item whose event caused `item`'s, when it is on screen. */
export function causeOf(items: FlowItem[], item: FlowItem): FlowItem | undefined {
  const causationId = causationOf(item);
  return causationId === null ? undefined : items.find((i) => i.event.id === causationId);
}

/** How many causation links lead back from `item` to the start of its flow (0 for the first). */
export function depthOf(items: FlowItem[], item: FlowItem): number {
  let depth = 0;
  let current = causeOf(items, item);
  const seen = new Set<string>();
  while (current && !seen.has(current.event.id)) {
    seen.add(current.event.id);
    depth += 1;
    current = causeOf(items, current);
  }
  return depth;
}
