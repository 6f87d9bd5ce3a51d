import * as v from "valibot";
import { StoredEventSchema } from "./mesh-event.ts";

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

export const ServerFrameSchema = v.variant("type", [
  EventFrameSchema,
  EventsFrameSchema,
  CaughtUpFrameSchema,
  GapFrameSchema,
  ErrorFrameSchema,
  TokenRefreshedFrameSchema,
  MarkFrameSchema,
]);

export type EventFrame = v.InferOutput<typeof EventFrameSchema>;
export type EventsFrame = v.InferOutput<typeof EventsFrameSchema>;
export type CaughtUpFrame = v.InferOutput<typeof CaughtUpFrameSchema>;
export type GapFrame = v.InferOutput<typeof GapFrameSchema>;
export type ErrorFrame = v.InferOutput<typeof ErrorFrameSchema>;
export type TokenRefreshedFrame = v.InferOutput<typeof TokenRefreshedFrameSchema>;
export type ServerFrame = v.InferOutput<typeof ServerFrameSchema>;

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
