import * as v from "valibot";
import { SeqSchema, StoredEventSchema } from "./mesh-event.ts";

/** Per-event answer of a publish. */
export const PublishedEventSchema = v.object({
  id: v.string(),
  source: v.string(),
  seq: SeqSchema,
  /** True when `(source, id)` was already stored inside the dedup window: `seq` is the original one. */
  duplicate: v.boolean(),
});
export type PublishedEvent = v.InferOutput<typeof PublishedEventSchema>;

/** Body of a publish answer (201, or 200 when every event was a duplicate): one entry per event, in the order sent. */
export const PublishResponseSchema = v.object({
  topic: v.string(),
  events: v.array(PublishedEventSchema),
});
export type PublishResponse = v.InferOutput<typeof PublishResponseSchema>;

const position = (description: string) => v.pipe(v.number(), v.integer(), v.minValue(0), v.description(description));

/** A page of `GET /v1/topics/:topic/events`. */
export const HistoryPageSchema = v.object({
  topic: v.string(),
  epoch: v.string(),
  head: position("The seq of the newest event of the topic."),
  next: position("The seq this page ends at: pass it as after to read on."),
  more: v.pipe(v.boolean(), v.description("True when (matching) events after next exist.")),
  /** Events in seq order; each carries its `seq`. */
  events: v.array(StoredEventSchema),
});
export type HistoryPage = v.InferOutput<typeof HistoryPageSchema>;

/** Where a history page stands: everything in it but its events. */
export interface HistoryPagePosition {
  topic: string;
  epoch: string;
  head: number;
  next: number;
  more: boolean;
}

/**
 * A history page (`HistoryPageSchema`) as the parts of its body, in order: its head, the stored
 * events' JSON in `pieces` (each the JSON of events in seq order joined with commas, as the log reads
 * them) with a comma between pieces, and its tail. The log keeps each event as JSON, so a page of up
 * to 1000 events is answered without parsing or re-encoding any of them.
 */
export function historyPageParts<Piece>(page: HistoryPagePosition, pieces: readonly Piece[]): (string | Piece)[] {
  const parts: (string | Piece)[] = [
    `{"topic":${JSON.stringify(page.topic)},"epoch":${JSON.stringify(page.epoch)},"head":${page.head},"next":${page.next},"more":${page.more},"events":[`,
  ];
  pieces.forEach((piece, i) => {
    if (i > 0) parts.push(",");
    parts.push(piece);
  });
  parts.push("]}");
  return parts;
}

/** `GET /v1/topics/:topic`: where the topic's log stands. */
export const TopicInfoSchema = v.object({
  topic: v.string(),
  /** Changes only if the log is reset, so a stored cursor from an older epoch is recognised. */
  epoch: v.string(),
  head: position("Seq of the newest event; 0 when the topic has never had one."),
  oldest: position("Seq of the oldest retained event; head + 1 when none is retained."),
  eventCount: v.pipe(v.number(), v.integer(), v.minValue(0)),
  bytes: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.description("Stored bytes of the retained events (their JSON), what retention.maxBytes limits."),
  ),
  dedupWindowSeconds: v.number(),
  retention: v.object({
    maxAgeSeconds: v.number(),
    maxEvents: v.number(),
    maxBytes: v.number(),
    protectSubscriptions: v.boolean(),
  }),
});
export type TopicInfo = v.InferOutput<typeof TopicInfoSchema>;

const count = (description: string) => v.pipe(v.number(), v.integer(), v.minValue(0), v.description(description));

/** `GET /v1/topics/:topic/stats`: what a topic has done and holds, for operators. */
export const TopicStatsSchema = v.object({
  topic: v.string(),
  publishes: count("Publish calls since the topic was created (one that only met duplicates included)."),
  eventsAppended: count("Events stored since the topic was created."),
  duplicates: count("Events answered as duplicates (their (source, id) was already stored)."),
  eventCount: count("Events retained now."),
  bytes: count("Stored bytes of the retained events."),
  liveSockets: count(
    "WebSockets that follow the topic on its hubs (one-topic and /v1/ws alike), as each hub last said when it answered a push: sockets opened or closed since the topic's latest publish are not counted yet.",
  ),
  hubs: count("Hub objects the topic pushes its events to (each holds sockets that follow it)."),
  subscriptions: count("Durable subscriptions."),
  deadLetters: count("Dead letters the topic's subscriptions hold."),
  gaps: count("Gaps its subscriptions met since they were created."),
});
export type TopicStats = v.InferOutput<typeof TopicStatsSchema>;

/** `GET /v1/topics`: every topic that has been used. */
export const TopicListSchema = v.object({ topics: v.array(TopicInfoSchema) });
export type TopicList = v.InferOutput<typeof TopicListSchema>;

/** `GET /v1/schemas`: the catalog's event types, each with the JSON Schema of its `data`. */
export const CatalogSchemasSchema = v.object({
  types: v.record(v.string(), v.pipe(v.object({}), v.description("The JSON Schema (draft-07) of the type's data."))),
});
export type CatalogSchemas = v.InferOutput<typeof CatalogSchemasSchema>;
