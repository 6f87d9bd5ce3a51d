import type { JsonObject } from "./json.ts";

/** Per-event answer of a publish. */
export interface PublishedEvent {
  id: string;
  source: string;
  seq: number;
  duplicate: boolean;
}

/** Body of a publish answer (201, or 200 when every event was a duplicate). */
export interface PublishResponse {
  topic: string;
  events: PublishedEvent[];
}

/** A page of `GET /v1/topics/:topic/events`. */
export interface HistoryPage {
  topic: string;
  epoch: string;
  /** Events in seq order; each carries its `seq`. */
  events: JsonObject[];
  /** The seq this page ends at: pass it as `after` to read on. */
  next: number;
  head: number;
  /** True when events after `next` exist. */
  more: boolean;
}

/** `GET /v1/topics/:topic`. */
export interface TopicInfo {
  topic: string;
  epoch: string;
  /** Seq of the newest event; 0 when the topic has never had one. */
  head: number;
  /** Seq of the oldest retained event; `head + 1` when none is retained. */
  oldest: number;
  eventCount: number;
  /** Stored bytes of the retained events (their JSON), what `retention.maxBytes` limits. */
  bytes: number;
  dedupWindowSeconds: number;
  retention: { maxAgeSeconds: number; maxEvents: number; maxBytes: number; protectSubscriptions: boolean };
}
