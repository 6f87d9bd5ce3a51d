import * as v from "valibot";
import { EventFiltersSchema } from "./event-filter.ts";
import { SeqSchema, StoredEventSchema } from "./mesh-event.ts";
import {
  OccupancyFrameSchema,
  PresenceEnterFrameSchema,
  PresenceEventFrameSchema,
  PresenceFollowFrameSchema,
  PresenceFrameSchema,
  PresenceLeaveFrameSchema,
  PresenceRefusedFrameSchema,
  PresenceUnfollowFrameSchema,
  PresenceUpdateFrameSchema,
} from "./presence.ts";
import { LastSchema, SinceSchema, startConflict } from "./rewind.ts";
import { TopicNameSchema } from "./topic-name.ts";

/**
 * Frames the server sends on a topic WebSocket. Every frame is a JSON text message with a `type`.
 * The event frame carries the stored CloudEvent, whose `seq` is its position in the topic.
 */
export const EventFrameSchema = v.object({
  type: v.literal("event"),
  topic: v.string(),
  event: StoredEventSchema,
});

/**
 * The text of an event frame, built by concatenation: the topic's name already JSON-encoded and
 * the stored event's JSON as the log keeps it, so a frame costs no parse and no serialization
 * of the event however many sockets it goes to. `EventFrameSchema` describes what it builds.
 */
export function eventFrameText(topicJson: string, storedEventJson: string): string {
  return `{"type":"event","topic":${topicJson},"event":${storedEventJson}}`;
}

/**
 * Several events in one frame, for a socket that asked for them (`batch=true`): replay pages and
 * appends written together, at most `EVENTS_FRAME_CHARS` per frame (one larger event goes alone).
 * The events are in seq order, exactly as the same number of event frames would carry them.
 */
export const EventsFrameSchema = v.object({
  type: v.literal("events"),
  topic: v.string(),
  events: v.array(StoredEventSchema),
});

/** The size a batched frame is filled to: past it the next event starts a new frame. */
export const EVENTS_FRAME_CHARS = 64 * 1024;

/** The text of an events frame, by concatenation like `eventFrameText`. */
export function eventsFrameText(topicJson: string, storedEventJsons: readonly string[]): string {
  return `{"type":"events","topic":${topicJson},"events":[${storedEventJsons.join(",")}]}`;
}

/** The replay reached the head; from now on frames are live. */
export const CaughtUpFrameSchema = v.object({
  type: v.literal("caught-up"),
  topic: v.string(),
  head: v.number(),
  epoch: v.string(),
});

/**
 * The requested position is older than the oldest retained event (or the topic's epoch changed):
 * events `after+1 … oldest-1` no longer exist. Replay continues from `oldest`.
 */
export const GapFrameSchema = v.object({
  type: v.literal("gap"),
  topic: v.string(),
  after: v.number(),
  oldest: v.number(),
  epoch: v.string(),
  reason: v.picklist(["retention", "epoch"]),
});

/** A refusal on the socket; a close with a matching close code usually follows. */
export const ErrorFrameSchema = v.object({
  type: v.literal("error"),
  code: v.string(),
  message: v.string(),
  /** With a retryable close (1013): the least the client should wait before it connects again. */
  retryAfterSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/** The socket's token was replaced in band (`auth:<token>`): it is now good until `expiresAt`. */
export const TokenRefreshedFrameSchema = v.object({
  type: v.literal("token-refreshed"),
  expiresAt: v.pipe(v.string(), v.isoTimestamp()),
});

/**
 * Flow control. Workers give a WebSocket no backpressure signal, so the client proves what it has
 * read: the server puts a `mark` frame with a random id into the stream every so often, and the
 * client answers `ack:<id>` when it reads it. An id can only be known by reading up to it, so a
 * client cannot acknowledge what it never read. The server stops sending to a socket with too much
 * unacknowledged and continues from the log when acks come in (see durable-objects/socket-flow.ts).
 */
export const MarkFrameSchema = v.object({
  type: v.literal("mark"),
  id: v.pipe(v.string(), v.description("Answer with ack:<id> once this frame is read.")),
});

export type MarkFrame = v.InferOutput<typeof MarkFrameSchema>;

export function markFrameText(id: string): string {
  return `{"type":"mark","id":"${id}"}`;
}

/** The id of a mark frame, without parsing anything else: for clients that read frames raw. */
export function markIdOf(text: string): string | null {
  return text.startsWith('{"type":"mark","id":"') && text.endsWith('"}') ? text.slice(21, -2) : null;
}

/**
 * On a socket that follows several topics (`/v1/ws`): a `subscribe` was accepted. Frames of the
 * topic that follow belong to this subscription; any earlier ones belonged to a previous one.
 * Then, per topic, the same order as a one-topic socket: an optional `gap`, the replay, one
 * `caught-up`, live events.
 */
export const SubscribedFrameSchema = v.object({
  type: v.literal("subscribed"),
  topic: v.string(),
  /** The position the subscription starts after: as the client asked, or where its rewind resolved to. */
  after: v.number(),
  /**
   * Sent when a rewind (`last`, `since`) was resolved: the epoch `after` belongs to. The client keeps
   * both as its cursor, so a reconnect resumes from them instead of rewinding again.
   */
  epoch: v.optional(v.string()),
});

/**
 * On a socket that follows several topics: the topic is no longer followed. Without `code` it
 * answers the client's `unsubscribe`; with one, the server refused or ended the subscription
 * (`forbidden`, `invalid_topic`, `cursor_ahead`, `too_many_subscriptions` are final for that
 * topic; `overloaded` may be retried after `retryAfterSeconds`). The socket and its other topics
 * go on.
 */
export const UnsubscribedFrameSchema = v.object({
  type: v.literal("unsubscribed"),
  topic: v.string(),
  code: v.optional(v.string()),
  message: v.optional(v.string()),
  retryAfterSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/** One event's answer in a `published` frame: its seq (the original one for a duplicate), or why it was refused. */
export const PublishOutcomeSchema = v.union([
  v.object({ seq: SeqSchema, duplicate: v.boolean() }),
  v.object({ error: v.object({ code: v.string(), message: v.string() }) }),
]);

/**
 * The answer to a `publish` frame, by its request `id`: one outcome per event, in the order sent.
 * The events it accepted were stored together; a refused one stored nothing.
 */
export const PublishedFrameSchema = v.object({
  type: v.literal("published"),
  id: v.string(),
  topic: v.string(),
  results: v.array(PublishOutcomeSchema),
});

export const ServerFrameSchema = v.variant("type", [
  EventFrameSchema,
  EventsFrameSchema,
  CaughtUpFrameSchema,
  GapFrameSchema,
  ErrorFrameSchema,
  TokenRefreshedFrameSchema,
  MarkFrameSchema,
  SubscribedFrameSchema,
  UnsubscribedFrameSchema,
  PublishedFrameSchema,
  PresenceFrameSchema,
  PresenceEventFrameSchema,
  OccupancyFrameSchema,
  PresenceRefusedFrameSchema,
]);

export type EventFrame = v.InferOutput<typeof EventFrameSchema>;
export type EventsFrame = v.InferOutput<typeof EventsFrameSchema>;
export type CaughtUpFrame = v.InferOutput<typeof CaughtUpFrameSchema>;
export type GapFrame = v.InferOutput<typeof GapFrameSchema>;
export type ErrorFrame = v.InferOutput<typeof ErrorFrameSchema>;
export type TokenRefreshedFrame = v.InferOutput<typeof TokenRefreshedFrameSchema>;
export type SubscribedFrame = v.InferOutput<typeof SubscribedFrameSchema>;
export type UnsubscribedFrame = v.InferOutput<typeof UnsubscribedFrameSchema>;
export type PublishOutcome = v.InferOutput<typeof PublishOutcomeSchema>;
export type PublishedFrame = v.InferOutput<typeof PublishedFrameSchema>;
export type ServerFrame = v.InferOutput<typeof ServerFrameSchema>;

/** Event types a subscription may filter on: as many and as long as the one-topic URL's `types`. */
const SubscribeTypesSchema = v.pipe(
  v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(200, "an event type is at most 200 characters"))),
  v.maxLength(50, "types lists at most 50 event types"),
);

/**
 * Client to server, on a socket that follows several topics (`/v1/ws`): follow `topic` from after
 * `after` (default 0), with the cursor's `epoch` and an optional type filter, exactly as the
 * one-topic URL's query does; or, instead of a cursor, rewind to the `last` N events or to `since`
 * (protocol/rewind.ts). Subscribing again to a topic already followed replaces that subscription
 * (the way to resume one topic without dropping the socket).
 */
export const SubscribeFrameSchema = v.object({
  type: v.literal("subscribe"),
  topic: TopicNameSchema,
  after: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER))),
  epoch: v.optional(v.pipe(v.string(), v.maxLength(64))),
  last: v.optional(LastSchema),
  since: v.optional(SinceSchema),
  types: v.optional(SubscribeTypesSchema),
  /** CloudEvents Subscriptions API filters, all of which an event must match (event-filter.ts). */
  filter: v.optional(EventFiltersSchema),
});

/** Client to server: stop following `topic`; answered with `unsubscribed`. */
export const UnsubscribeFrameSchema = v.object({
  type: v.literal("unsubscribe"),
  topic: TopicNameSchema,
});

/** Events one `publish` frame may carry: a small batch, answered event by event. */
export const MAX_PUBLISH_FRAME_EVENTS = 10;

/**
 * Client to server, on `/v1/ws` with a token that allows `publish` on `topic`: publish these
 * CloudEvents, checked one by one as `POST /v1/topics/:topic/events` checks them. `id` is the
 * client's own request id, echoed in the `published` answer; a request sent again after a reconnect
 * carries the same events, whose (source, id) makes the second copy a duplicate.
 */
export const PublishFrameSchema = v.object({
  type: v.literal("publish"),
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(64, "a publish request id is at most 64 characters")),
  topic: TopicNameSchema,
  events: v.pipe(
    v.array(v.unknown()),
    v.minLength(1, "a publish frame carries at least one event"),
    v.maxLength(MAX_PUBLISH_FRAME_EVENTS, `a publish frame carries at most ${MAX_PUBLISH_FRAME_EVENTS} events`),
  ),
});

/** A subscribe gives a cursor or a rewind, never both (a variant's options cannot carry the check). */
export const ClientFrameSchema = v.pipe(
  v.variant("type", [
    SubscribeFrameSchema,
    UnsubscribeFrameSchema,
    PublishFrameSchema,
    PresenceEnterFrameSchema,
    PresenceUpdateFrameSchema,
    PresenceLeaveFrameSchema,
    PresenceFollowFrameSchema,
    PresenceUnfollowFrameSchema,
  ]),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value.type !== "subscribe") return;
    const conflict = startConflict(dataset.value);
    if (!conflict) return;
    const input = dataset.value as Record<string, unknown>;
    const key = conflict.field;
    addIssue({ message: conflict.message, path: [{ type: "object", origin: "value", input, key, value: input[key] }] });
  }),
);

export type SubscribeFrame = v.InferOutput<typeof SubscribeFrameSchema>;
export type UnsubscribeFrame = v.InferOutput<typeof UnsubscribeFrameSchema>;
export type PublishFrame = v.InferOutput<typeof PublishFrameSchema>;
export type ClientFrame = v.InferOutput<typeof ClientFrameSchema>;

export function subscribeFrameText(frame: Omit<SubscribeFrame, "type">): string {
  return JSON.stringify({ type: "subscribe", ...frame });
}

export function unsubscribeFrameText(topic: string): string {
  return JSON.stringify({ type: "unsubscribe", topic });
}

export function publishFrameText(frame: Omit<PublishFrame, "type">): string {
  return JSON.stringify({ type: "publish", ...frame });
}

/** Parses a JSON client frame; a refusal names what was wrong. */
export function parseClientFrame(text: string): { ok: true; frame: ClientFrame } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      ok: false,
      message: "a frame is ping, ack:<id>, auth:<token> or a JSON subscribe, unsubscribe, publish or presence frame",
    };
  }
  const result = v.safeParse(ClientFrameSchema, value);
  if (result.success) return { ok: true, frame: result.output };
  const issue = result.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join(".");
  return { ok: false, message: path ? `${path}: ${issue.message}` : issue.message };
}

/** Heartbeat: the client sends this text and the runtime answers `HEARTBEAT_PONG` without waking the DO. */
export const HEARTBEAT_PING = "ping";
export const HEARTBEAT_PONG = "pong";
export const PingTextSchema = v.pipe(v.literal(HEARTBEAT_PING), v.description("Heartbeat, sent as plain text."));
export const PongTextSchema = v.pipe(v.literal(HEARTBEAT_PONG), v.description("The answer to a ping, as plain text."));

export const ACK_PREFIX = "ack:";
const ACK_TEXT = /^ack:([0-9a-f]{16})$/;

export const AckTextSchema = v.pipe(
  v.string(),
  v.regex(ACK_TEXT),
  v.description("Flow control, sent as plain text: ack:<id>, the id of the last mark frame read."),
);

export function ackFrame(markId: string): string {
  return `${ACK_PREFIX}${markId}`;
}

/** The mark id of an `ack:<id>` frame; `null` for anything else. */
export function parseAck(text: string): string | null {
  return ACK_TEXT.exec(text)?.[1] ?? null;
}

/**
 * In-band token refresh: `auth:<token>` replaces the socket's subscriber token before it expires,
 * checked by the same rules as at connect, never wider than the token it replaces. A socket whose
 * token expires unrefreshed is closed with 4440.
 */
export const AUTH_PREFIX = "auth:";
const AUTH_TEXT = /^auth:([\w-]+\.[\w-]+\.[\w-]*)$/;

export const AuthTextSchema = v.pipe(
  v.string(),
  v.regex(AUTH_TEXT),
  v.description("Token refresh, sent as plain text: auth:<subscriber token>."),
);

export function authFrame(token: string): string {
  return `${AUTH_PREFIX}${token}`;
}

/** The token of an `auth:<token>` frame; `null` for anything else. */
export function parseAuth(text: string): string | null {
  return AUTH_TEXT.exec(text)?.[1] ?? null;
}

/** Parses one server frame; `null` for anything that is not a valid frame. */
export function parseServerFrame(text: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const result = v.safeParse(ServerFrameSchema, value);
  return result.success ? result.output : null;
}
