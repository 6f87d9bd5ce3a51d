import * as v from "valibot";
import type { Catalog } from "../../protocol/catalog.ts";
import { CLOSE, CLOSE_MEANINGS, closeCodeForError, isTerminalCloseCode } from "../../protocol/close-codes.ts";
import { ERROR_STATUS, type ErrorCode } from "../../protocol/error-codes.ts";
import { EventFilterListSchema, EventFilterSchema } from "../../protocol/event-filter.ts";
import {
  AckTextSchema,
  AuthTextSchema,
  CaughtUpFrameSchema,
  ErrorFrameSchema,
  EventFrameSchema,
  EventsFrameSchema,
  GapFrameSchema,
  MarkFrameSchema,
  PingTextSchema,
  PongTextSchema,
  PublishedFrameSchema,
  PublishFrameSchema,
  SubscribedFrameSchema,
  SubscribeFrameSchema,
  TokenRefreshedFrameSchema,
  UnsubscribedFrameSchema,
  UnsubscribeFrameSchema,
} from "../../protocol/frames.ts";
import { StoredEventSchema } from "../../protocol/mesh-event.ts";
import { SubscribeQuerySchema, TopicsSocketQuerySchema } from "../../protocol/query.ts";
import { TOPIC_NAME_RULE } from "../../protocol/topic-name.ts";
import { PRESENCE_MESSAGES, PRESENCE_RECEIVED, PRESENCE_SENT } from "./asyncapi-presence.ts";
import { DocumentSchemas } from "./document-schemas.ts";

export const ASYNCAPI_VERSION = "3.0.0";

/**
 * What `GET /v1/asyncapi.json` promises of its answer; the full check is the official AsyncAPI 3.0
 * meta-schema, which the end-to-end test runs on it.
 */
export const AsyncApiDocumentSchema = v.looseObject({
  asyncapi: v.literal(ASYNCAPI_VERSION),
  info: v.looseObject({ title: v.string(), version: v.string() }),
  channels: v.record(v.string(), v.looseObject({})),
});
export type AsyncApiDocument = v.InferOutput<typeof AsyncApiDocumentSchema>;

/** The frame shapes under their component names. */
const FRAME_SCHEMAS: Record<string, v.GenericSchema> = {
  StoredEvent: StoredEventSchema,
  EventFrame: EventFrameSchema,
  EventsFrame: EventsFrameSchema,
  CaughtUpFrame: CaughtUpFrameSchema,
  GapFrame: GapFrameSchema,
  ErrorFrame: ErrorFrameSchema,
  TokenRefreshedFrame: TokenRefreshedFrameSchema,
  MarkFrame: MarkFrameSchema,
  SubscribedFrame: SubscribedFrameSchema,
  UnsubscribedFrame: UnsubscribedFrameSchema,
  SubscribeFrame: SubscribeFrameSchema,
  UnsubscribeFrame: UnsubscribeFrameSchema,
  EventFilter: EventFilterSchema,
  EventFilterList: EventFilterListSchema,
  PublishFrame: PublishFrameSchema,
  PublishedFrame: PublishedFrameSchema,
};

const JSON_TEXT = "application/json";
const PLAIN_TEXT = "text/plain";

/** Every message on a topic socket, by name: its payload and what it means. */
const MESSAGES = {
  event: {
    payload: EventFrameSchema,
    contentType: JSON_TEXT,
    summary: "One stored event: replayed (seq > after, ascending) or live, as it is published.",
  },
  events: {
    payload: EventsFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "Several stored events in seq order, for a connection opened with batch=true: replay pages and appends written together, up to 64 Ki characters a frame (one larger event goes alone, as an event frame).",
  },
  "caught-up": {
    payload: CaughtUpFrameSchema,
    contentType: JSON_TEXT,
    summary: "The replay reached the head; every later frame is live. Sent once per connection.",
  },
  gap: {
    payload: GapFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "Events the client asked for no longer exist: trimmed by retention, or the topic's log was reset (epoch). The replay continues from oldest.",
  },
  error: {
    payload: ErrorFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "A refusal with a stable code (the HTTP API's codes). A refused connection gets one, then a close with the matching code; a message the socket does not take gets one (invalid_body).",
  },
  ping: { payload: PingTextSchema, contentType: PLAIN_TEXT, summary: "Heartbeat from the client." },
  pong: {
    payload: PongTextSchema,
    contentType: PLAIN_TEXT,
    summary: "The answer to ping, given by the runtime without waking the topic's object.",
  },
  mark: {
    payload: MarkFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "Flow control: a point in the stream with a random id, sent every quarter of LIVE_MAX_UNACKED_CHARS and when sending stops. The client answers ack:<id> once it has read it.",
  },
  ack: {
    payload: AckTextSchema,
    contentType: PLAIN_TEXT,
    summary:
      "Flow control: the id of the last mark read; everything sent before that mark counts as read. An id never sent changes nothing. A client that does not ack is stopped after LIVE_MAX_UNACKED_CHARS unacknowledged characters and closed with 1013 after LIVE_STALL_SECONDS.",
  },
  auth: {
    payload: AuthTextSchema,
    contentType: PLAIN_TEXT,
    summary:
      "In-band token refresh on a socket opened with a subscriber token: a fresh token for the same subject, no wider than the one it replaces, sent before the current one expires. Answered with token-refreshed; a refused one closes the socket as a refused connection would. Unrefreshed, the socket is closed with 4440 when its token expires.",
  },
  "token-refreshed": {
    payload: TokenRefreshedFrameSchema,
    contentType: JSON_TEXT,
    summary: "The socket's token was replaced (auth:<token>): the socket is good until expiresAt.",
  },
  subscribe: {
    payload: SubscribeFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "On /v1/ws: follow a topic from after (default 0), with the cursor's epoch, optional types and an optional filter (CloudEvents Subscriptions API dialects), as the one-topic socket's query does; or, instead of after and epoch, rewind: last (0 to 1000, 0 = from now: the newest last events) or since (RFC 3339: from the first event the topic stored at or after it). A cursor with a rewind, or both rewinds, is refused (error, invalid_body), as is a malformed filter; the socket stays open. Subscribing again to a followed topic replaces its subscription (the way to resume one topic without dropping the socket).",
  },
  unsubscribe: {
    payload: UnsubscribeFrameSchema,
    contentType: JSON_TEXT,
    summary: "On /v1/ws: stop following a topic; answered with unsubscribed.",
  },
  subscribed: {
    payload: SubscribedFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "On /v1/ws: a subscribe was accepted. The topic's frames that follow belong to it (an optional gap, the replay, one caught-up, live events); earlier ones belonged to a previous subscription. After a rewind (last, since) it names the cursor the rewind resolved to, after with its epoch: resume from them, not by rewinding again. A one-topic socket opened with last or since is sent this frame too, first, and no other subscribed frame.",
  },
  unsubscribed: {
    payload: UnsubscribedFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "On /v1/ws: the topic is no longer followed. Without code it answers unsubscribe; with one the server refused or ended the subscription (forbidden, invalid_topic, cursor_ahead, too_many_subscriptions: final for the topic; overloaded: subscribe again after retryAfterSeconds). The socket and its other topics go on.",
  },
  publish: {
    payload: PublishFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "On /v1/ws with a subscriber token that allows publish on the topic: publish up to 10 CloudEvents, each checked as POST /v1/topics/{topic}/events checks it (envelope, size, catalog) and stored with the token's authcontext (authtype app_user, authid its subject or id). One request per frame counts against the token's rate limit. Send an unanswered frame again after a reconnect: (source, id) makes a stored event a duplicate.",
  },
  published: {
    payload: PublishedFrameSchema,
    contentType: JSON_TEXT,
    summary:
      "On /v1/ws: the answer to the publish frame with this id, one result per event in the order sent: its seq (the original one, duplicate: true, for a repeated (source, id)), or its refusal with a stable code (forbidden, rate_limited, invalid_envelope, schema_mismatch, unknown_event_type, event_too_large, overloaded). Refused events stored nothing; the socket goes on.",
  },
  ...PRESENCE_MESSAGES,
} as const;

type MessageName = keyof typeof MESSAGES;
type ChannelName = "topic" | "topics";

/** Messages only a socket that follows many topics takes or sends. */
const TOPICS_ONLY: readonly MessageName[] = [
  "subscribe",
  "unsubscribe",
  "unsubscribed",
  "publish",
  "published",
  ...PRESENCE_SENT,
  ...PRESENCE_RECEIVED,
];

const channelMessage = (channel: ChannelName) => (name: MessageName) => ({
  $ref: `#/channels/${channel}/messages/${name}`,
});

/** The send and receive operations of one channel, named with its suffix. */
function channelOperations(channel: ChannelName, suffix: string, sent: readonly MessageName[]) {
  const message = channelMessage(channel);
  const ref = { $ref: `#/channels/${channel}` };
  const operations: Record<string, object> = {
    [`sendFrames${suffix}`]: {
      action: "send",
      channel: ref,
      summary: "The mesh sends the topics' events and where each stream stands.",
      messages: sent.map(message),
    },
    [`sendMarks${suffix}`]: {
      action: "send",
      channel: ref,
      summary: "Flow control: the mesh asks the client to acknowledge what it has read.",
      messages: [message("mark")],
      reply: { channel: ref, messages: [message("ack")] },
    },
    [`receivePing${suffix}`]: {
      action: "receive",
      channel: ref,
      summary: "The client's heartbeat; the answer is pong.",
      messages: [message("ping")],
      reply: { channel: ref, messages: [message("pong")] },
    },
    [`receiveAck${suffix}`]: {
      action: "receive",
      channel: ref,
      summary: "The client's acknowledgement of what it has read.",
      messages: [message("ack")],
    },
    [`receiveAuth${suffix}`]: {
      action: "receive",
      channel: ref,
      summary: "A fresh subscriber token for the open socket.",
      messages: [message("auth")],
      reply: { channel: ref, messages: [message("token-refreshed")] },
    },
  };
  if (channel === "topics") {
    operations.receiveSubscribe = {
      action: "receive",
      channel: ref,
      summary: "The client follows a topic on the open socket.",
      messages: [message("subscribe")],
      reply: { channel: ref, messages: [message("subscribed"), message("unsubscribed")] },
    };
    operations.receiveUnsubscribe = {
      action: "receive",
      channel: ref,
      summary: "The client stops following a topic.",
      messages: [message("unsubscribe")],
      reply: { channel: ref, messages: [message("unsubscribed")] },
    };
    operations.receivePublish = {
      action: "receive",
      channel: ref,
      summary: "The client publishes events to a topic its token allows publish on.",
      messages: [message("publish")],
      reply: { channel: ref, messages: [message("published")] },
    };
    operations.receivePresence = {
      action: "receive",
      channel: ref,
      summary: "The client follows a topic's presence, enters, updates or leaves it.",
      messages: PRESENCE_RECEIVED.map(message),
    };
  }
  return operations;
}

/** Each close code with its meaning and the refusals that end with it. */
function closeCodes() {
  const errors = Object.keys(ERROR_STATUS) as ErrorCode[];
  return (Object.keys(CLOSE) as (keyof typeof CLOSE)[]).map((name) => ({
    code: CLOSE[name],
    name,
    terminal: isTerminalCloseCode(CLOSE[name]),
    meaning: CLOSE_MEANINGS[name],
    errors: errors.filter((code) => closeCodeForError(code) === CLOSE[name]),
  }));
}

function channelDescription(codes: ReturnType<typeof closeCodes>): string {
  const rows = codes.map(
    (c) =>
      `| ${c.code} | ${c.name} | ${c.terminal ? "stop, report" : "reconnect from lastSeq"} | ${c.meaning}${c.errors.length > 0 ? ` Refusals: ${c.errors.join(", ")}.` : ""} |`,
  );
  return [
    "Order on one connection: an optional gap, the replay (event frames with seq > after, ascending), one caught-up, then live event frames. An unfiltered connection's seqs are contiguous.",
    "To resume, reconnect with after = the last seq handled and epoch = the epoch of the last caught-up or gap frame; drop any event with seq <= after.",
    "To start without a cursor, give a rewind instead of after and epoch: last (0 to 1000; 0 = from now) or since (RFC 3339, the topic's own append time). The first frame then is subscribed, naming the cursor (after, epoch) it resolved to; resume from that cursor, never by rewinding again.",
    "Close codes (also in x-close-codes). Terminal codes (1008, 4000-4499) mean reconnecting the same way cannot help; every other code is retried with backoff.",
    ["| code | name | client | meaning |", "|---|---|---|---|", ...rows].join("\n"),
  ].join("\n\n");
}

/**
 * The AsyncAPI 3.0 document of the topic WebSockets, generated from the frame schemas of
 * protocol/frames.ts: the channels `/v1/topics/{topic}/ws` (one topic) and `/v1/ws` (many topics,
 * subscribed with frames) with their queries, the frames the mesh
 * sends and the texts it takes (ping, `ack:<id>`, `auth:<token>`), the close codes, and the catalog's
 * data schemas. It describes the mesh's side: it sends frames and receives heartbeats, acks and tokens. `servers` is
 * left to the caller, who knows the host.
 */
export function asyncApiDocument(catalog: Catalog): AsyncApiDocument {
  const schemas = new DocumentSchemas(FRAME_SCHEMAS, catalog, "draft-07");
  const codes = closeCodes();
  const names = Object.keys(MESSAGES) as MessageName[];
  const topicNames = names.filter((name) => !TOPICS_ONLY.includes(name));
  const channelMessages = (list: MessageName[]) =>
    Object.fromEntries(list.map((name) => [name, { $ref: `#/components/messages/${name}` }]));
  return {
    asyncapi: ASYNCAPI_VERSION,
    info: {
      title: "event-mesh live topics",
      version: "1",
      description:
        schemas.catalogNames.size === 0
          ? "Follow a topic of the mesh live. This deployment has no event catalog: events of any type are stored."
          : `Follow a topic of the mesh live. This deployment's event catalog: ${[...schemas.catalogNames].map(([type, name]) => `${type} (its data: #/components/schemas/${name})`).join(", ")}.`,
    },
    defaultContentType: JSON_TEXT,
    channels: {
      topic: {
        address: "/v1/topics/{topic}/ws",
        title: "A topic's live socket",
        description: channelDescription(codes),
        parameters: { topic: { description: `The topic name: ${TOPIC_NAME_RULE}.` } },
        messages: channelMessages(topicNames),
        bindings: { ws: { method: "GET", query: schemas.of(SubscribeQuerySchema), bindingVersion: "0.1.0" } },
        "x-close-codes": codes,
      },
      topics: {
        address: "/v1/ws",
        title: "A socket that follows many topics",
        description: [
          "Subscribe and unsubscribe topics on the open socket. Per topic, the order is the one-topic socket's, after a subscribed frame: an optional gap, the replay, one caught-up, then live events; each topic has its own cursor, epoch, types and filter (CloudEvents Subscriptions API dialects), and is checked against the socket's credential when subscribed. Flow control (mark / ack), heartbeats, token refresh and close codes are the one-topic socket's, for the socket as a whole.",
          "A refusal of one topic is an unsubscribed frame with a code; the socket and its other topics go on. The socket is held by a hub: when every hub tried is full the upgrade is refused with overloaded and 1013, and retryAfterSeconds.",
          channelDescription(codes),
        ].join("\n\n"),
        messages: channelMessages(names),
        bindings: { ws: { method: "GET", query: schemas.of(TopicsSocketQuerySchema), bindingVersion: "0.1.0" } },
        "x-close-codes": codes,
      },
    },
    operations: {
      ...channelOperations("topic", "", ["subscribed", "event", "events", "caught-up", "gap", "error"]),
      ...channelOperations("topics", "OnTopics", [
        "subscribed",
        "event",
        "events",
        "caught-up",
        "gap",
        "unsubscribed",
        "error",
        ...PRESENCE_SENT,
      ]),
    },
    components: {
      schemas: schemas.components,
      messages: Object.fromEntries(
        names.map((name) => {
          const { payload, contentType, summary } = MESSAGES[name];
          return [name, { name, contentType, summary, payload: schemas.of(payload) }];
        }),
      ),
      securitySchemes: {
        queryToken: {
          type: "httpApiKey",
          in: "query",
          name: "token",
          description:
            "A subscriber token from POST /v1/tokens (browsers cannot set headers on a WebSocket). A key is refused here (key_in_url): keys never travel in URLs.",
        },
        bearer: { type: "http", scheme: "bearer", description: "Authorization: Bearer <key or token>." },
      },
    },
  };
}
