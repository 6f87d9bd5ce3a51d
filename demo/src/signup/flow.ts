import type { JsonObject } from "../../protocol/json.ts";

/** One event as the flow panel shows it: where it sits in its topic and what caused it. */
export interface FlowEvent {
  topic: string;
  seq: number;
  id: string;
  type: string;
  source: string;
  time: string;
  correlationId: string | null;
  causationId: string | null;
  data: JsonObject;
}

/** Reads the fields the panel needs from a stored CloudEvent. */
export function toFlowEvent(topic: string, event: JsonObject): FlowEvent {
  const str = (key: string) => (typeof event[key] === "string" ? (event[key] as string) : null);
  const data = event.data;
  return {
    topic,
    seq: Number(event.seq),
    id: str("id") ?? "",
    type: str("type") ?? "",
    source: str("source") ?? "",
    time: str("time") ?? new Date().toISOString(),
    correlationId: str("correlationid"),
    causationId: str("causationid"),
    data: data !== null && typeof data === "object" && !Array.isArray(data) ? data : {},
  };
}

/** Adds an event unless the same topic position is already there (a replay after a reconnect). */
export function addEvent(events: FlowEvent[], event: FlowEvent): FlowEvent[] {
  if (events.some((e) => e.topic === event.topic && e.seq === event.seq)) return events;
  return [...events, event];
}

/** The event that caused `event`, when it is on screen. */
export function causeOf(events: FlowEvent[], event: FlowEvent): FlowEvent | undefined {
  return event.causationId === null ? undefined : events.find((e) => e.id === event.causationId);
}

/** How many causation links lead back from `event` to the start of its flow (0 for the first). */
export function depthOf(events: FlowEvent[], event: FlowEvent): number {
  let depth = 0;
  let current = causeOf(events, event);
  const seen = new Set<string>();
  while (current && !seen.has(current.id)) {
    seen.add(current.id);
    depth += 1;
    current = causeOf(events, current);
  }
  return depth;
}
