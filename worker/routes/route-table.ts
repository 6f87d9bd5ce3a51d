import type * as v from "valibot";
import {
  type Operation,
  RevocationRequestSchema,
  RevocationResponseSchema,
  TokenRequestSchema,
  TokenResponseSchema,
} from "../../protocol/auth.ts";
import {
  DeadLetterListQuerySchema,
  DeadLetterListSchema,
  RedriveBodySchema,
  RedriveResponseSchema,
  SubscriptionDeadLetterListSchema,
  SubscriptionDeadLetterQuerySchema,
} from "../../protocol/dead-letter-api.ts";
import { DeadLetterIdSchema } from "../../protocol/dead-letter-id.ts";
import { DeadLetterSchema } from "../../protocol/dead-letters.ts";
import { CloudEventSchema } from "../../protocol/envelope.ts";
import { PresencePageSchema, PresenceQuerySchema } from "../../protocol/presence.ts";
import {
  BinaryEventDataSchema,
  CloudEventBatchSchema,
  CloudEventOrBatchSchema,
} from "../../protocol/publish-request.ts";
import { HistoryQuerySchema, SubscribeQuerySchema, TopicsSocketQuerySchema } from "../../protocol/query.ts";
import {
  CatalogSchemasSchema,
  HistoryPageSchema,
  PublishResponseSchema,
  TopicInfoSchema,
  TopicListSchema,
  TopicStatsSchema,
} from "../../protocol/responses.ts";
import {
  PutSubscriptionResponseSchema,
  RedriveSchema,
  RotateSecretResponseSchema,
  RotateSecretSchema,
  SeekSchema,
  SubscriptionConfigSchema,
  SubscriptionListSchema,
  SubscriptionNameSchema,
  SubscriptionRedriveResponseSchema,
  SubscriptionViewSchema,
} from "../../protocol/subscriptions.ts";
import { TopicNameSchema } from "../../protocol/topic-name.ts";
import { AsyncApiDocumentSchema } from "../api-docs/asyncapi-document.ts";
import { OpenApiDocumentSchema } from "../api-docs/openapi-document.ts";
import { asyncApiJson, openApiJson } from "./api-docs.ts";
import {
  deleteOneDeadLetter,
  getOneDeadLetter,
  listAllDeadLetters,
  redriveManyDeadLetters,
  redriveOneDeadLetter,
} from "./dead-letters.ts";
import { openLiveSocket } from "./live.ts";
import { topicPresence } from "./presence.ts";
import { publishBodyLimit, publishEvents } from "./publish.ts";
import { type RouteAccess, type RouteBody, type RouteDef, route } from "./route-def.ts";
import { catalogSchemas } from "./schemas.ts";
import {
  deleteSubscription,
  getSubscription,
  listSubscriptionDeadLetters,
  listSubscriptions,
  pauseSubscription,
  putSubscription,
  redriveSubscriptionDeadLetters,
  resumeSubscription,
  rotateSubscriptionSecret,
  seekSubscription,
  subscriptionBodyLimit,
} from "./subscriptions.ts";
import { mintSubscriberToken, revokeTokens } from "./tokens.ts";
import { topicHistory, topicInfo, topicStats } from "./topics.ts";
import { listTopics } from "./topics-list.ts";
import { openTopicsSocket } from "./topics-socket.ts";

const topicOp = (op: Operation, extra: Omit<Extract<RouteAccess, { op: Operation }>, "op" | "topic"> = {}) =>
  ({ op, topic: true, ...extra }) as const;
const TOPIC = "/v1/topics/:topic";
const SUBSCRIPTION = `${TOPIC}/subscriptions/:name`;
const TOPIC_PARAMS = { topic: TopicNameSchema };
const SUBSCRIPTION_PARAMS = { ...TOPIC_PARAMS, name: SubscriptionNameSchema };
const DEAD_LETTER_PARAMS = { id: DeadLetterIdSchema };

/** A JSON request body read by `readJsonBody` and checked with `parseBody`. */
const jsonBody = (schema: v.GenericSchema, required = true): RouteBody => ({
  required,
  content: { "application/json": schema },
});
const JSON_BODY_REFUSALS = ["unsupported_media_type", "malformed_json", "invalid_body"] as const;
const SUBSCRIPTION_BODY_REFUSALS = [...JSON_BODY_REFUSALS, "body_too_large"] as const;
const SUBSCRIPTION_REFUSALS = ["invalid_subscription_name", "subscription_not_found"] as const;
const CURSOR_REFUSALS = ["cursor_expired", "cursor_ahead"] as const;
const subscriptionAnswer = (description: string) => ({ 200: { description, body: SubscriptionViewSchema } });

/**
 * Every route of the HTTP API. This table drives the router, the 405 answers and their `Allow`
 * header, the auth policy, the security test and the OpenAPI description; a path or method missing
 * here is not served. Static paths come before the parameter paths they would otherwise match.
 */
export const ROUTES: readonly RouteDef[] = [
  route({
    method: "POST",
    path: `${TOPIC}/events`,
    operationId: "publishEvents",
    summary: "Publish CloudEvents (structured, batch or binary mode)",
    description:
      "Stores the events at the end of the topic's log, each with the next seq, in one transaction: all or none. A (source, id) already stored inside the dedup window is answered with its original seq and duplicate: true. The credential is a key, or a subscriber token that allows publish; every stored event carries who published it (CloudEvents authcontext: authtype api_key or app_user, authid the key's id or the token's subject), and an event that sets authtype, authid or authclaims itself is refused (invalid_envelope).",
    access: topicOp("publish", { rateLimit: "publish" }),
    params: TOPIC_PARAMS,
    body: {
      required: false,
      content: {
        "application/cloudevents+json": CloudEventSchema,
        "application/cloudevents-batch+json": CloudEventBatchSchema,
        "application/json": CloudEventOrBatchSchema,
        "*/*": BinaryEventDataSchema,
      },
    },
    responses: {
      201: { description: "At least one event was stored.", body: PublishResponseSchema },
      200: { description: "Every event was a duplicate: nothing was stored.", body: PublishResponseSchema },
    },
    refusals: [
      "body_too_large",
      "unsupported_media_type",
      "malformed_json",
      "invalid_body",
      "batch_too_large",
      "event_too_large",
      "invalid_envelope",
      "schema_mismatch",
      "unknown_event_type",
    ],
    middleware: [publishBodyLimit],
    handler: publishEvents,
  }),
  route({
    method: "GET",
    path: `${TOPIC}/events`,
    operationId: "readHistory",
    summary: "Read a page of the topic's history",
    description:
      "A page starts after the cursor after (default 0), or with the newest last events (1 to 1000), or at the first event the topic stored at or after since (RFC 3339, the topic's own append time, not the events' time attribute); until ends it with the last event stored at or before that time. A cursor with a rewind, or last with since, is refused (invalid_query). Read on with after = next (and the same until). Events a rewind asks for that retention trimmed answer 410 cursor_expired, never a silent skip.",
    access: topicOp("history"),
    params: TOPIC_PARAMS,
    query: HistoryQuerySchema,
    responses: {
      200: { description: "Events in seq order, from the page's start up to next.", body: HistoryPageSchema },
    },
    refusals: ["invalid_query", ...CURSOR_REFUSALS],
    handler: topicHistory,
  }),
  route({
    method: "GET",
    path: `${TOPIC}/presence`,
    operationId: "readPresence",
    summary: "Who is on the topic: occupancy and a page of members",
    description:
      "The topic's occupancy (members, and their connections) and its members in member order with their data, a page at a time: pass next as cursor for the next page. Members enter and leave over /v1/ws (presence frames); the list is as the topic's presence object holds it now.",
    access: topicOp("history"),
    params: TOPIC_PARAMS,
    query: PresenceQuerySchema,
    responses: { 200: { description: "The counts and one page of members.", body: PresencePageSchema } },
    refusals: ["invalid_query"],
    handler: topicPresence,
  }),
  route({
    method: "GET",
    path: "/v1/ws",
    operationId: "followTopics",
    summary: "Follow many topics live over one WebSocket",
    description:
      "A WebSocket upgrade (Upgrade: websocket) onto a hub, which serves every topic the socket subscribes to with subscribe / unsubscribe frames, each with its own cursor, type filter, gap and caught-up frames. The frames are described by GET /v1/asyncapi.json. The credential must allow subscribe; each topic is checked against it when subscribed. A refused upgrade is refused on the socket: an error frame, then a close code (overloaded, 1013, when every hub tried is full).",
    access: { op: "subscribe", tokenInQuery: true },
    query: TopicsSocketQuerySchema,
    responses: { 101: { description: "Switching Protocols: a WebSocket on a hub (named in x-mesh-hub)." } },
    refusals: ["invalid_query", "upgrade_required", "overloaded"],
    handler: openTopicsSocket,
  }),
  route({
    method: "GET",
    path: `${TOPIC}/ws`,
    operationId: "followTopic",
    summary: "Follow the topic live over a WebSocket",
    description:
      "A WebSocket upgrade (Upgrade: websocket). The frames are described by GET /v1/asyncapi.json. A refused upgrade is refused on the socket: an error frame, then a close code; a request without an upgrade gets the JSON refusals below.",
    access: topicOp("subscribe", { tokenInQuery: true }),
    params: TOPIC_PARAMS,
    query: SubscribeQuerySchema,
    responses: { 101: { description: "Switching Protocols: the topic's WebSocket." } },
    refusals: ["invalid_query", "upgrade_required"],
    handler: openLiveSocket,
  }),
  route({
    method: "GET",
    path: `${TOPIC}/subscriptions`,
    operationId: "listSubscriptions",
    summary: "List the topic's durable subscriptions",
    access: topicOp("admin"),
    params: TOPIC_PARAMS,
    responses: { 200: { description: "The topic's subscriptions, by name.", body: SubscriptionListSchema } },
    refusals: [],
    handler: listSubscriptions,
  }),
  route({
    method: "PUT",
    path: SUBSCRIPTION,
    operationId: "putSubscription",
    summary: "Create or update a durable subscription",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    body: jsonBody(SubscriptionConfigSchema),
    responses: {
      201: { description: "Created.", body: PutSubscriptionResponseSchema },
      200: { description: "Updated; the cursor is kept.", body: PutSubscriptionResponseSchema },
    },
    refusals: [
      "invalid_subscription_name",
      ...SUBSCRIPTION_BODY_REFUSALS,
      "webhook_url_not_allowed",
      "unknown_queue",
      ...CURSOR_REFUSALS,
    ],
    middleware: [subscriptionBodyLimit],
    handler: putSubscription,
  }),
  route({
    method: "GET",
    path: SUBSCRIPTION,
    operationId: "getSubscription",
    summary: "Read a durable subscription",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    responses: subscriptionAnswer("The subscription and where its delivery stands."),
    refusals: SUBSCRIPTION_REFUSALS,
    handler: getSubscription,
  }),
  route({
    method: "DELETE",
    path: SUBSCRIPTION,
    operationId: "deleteSubscription",
    summary: "Delete a durable subscription",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    responses: { 204: { description: "Deleted, with its dead letters." } },
    refusals: SUBSCRIPTION_REFUSALS,
    handler: deleteSubscription,
  }),
  route({
    method: "POST",
    path: `${SUBSCRIPTION}/pause`,
    operationId: "pauseSubscription",
    summary: "Pause delivery",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    responses: subscriptionAnswer("Paused (or already paused)."),
    refusals: SUBSCRIPTION_REFUSALS,
    handler: pauseSubscription,
  }),
  route({
    method: "POST",
    path: `${SUBSCRIPTION}/resume`,
    operationId: "resumeSubscription",
    summary: "Resume delivery",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    responses: subscriptionAnswer("Active (or already active)."),
    refusals: SUBSCRIPTION_REFUSALS,
    handler: resumeSubscription,
  }),
  route({
    method: "POST",
    path: `${SUBSCRIPTION}/seek`,
    operationId: "seekSubscription",
    summary: "Move the subscription's cursor",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    body: jsonBody(SeekSchema),
    responses: subscriptionAnswer("The cursor moved: the next event delivered is `to`."),
    refusals: [...SUBSCRIPTION_REFUSALS, ...SUBSCRIPTION_BODY_REFUSALS, ...CURSOR_REFUSALS],
    middleware: [subscriptionBodyLimit],
    handler: seekSubscription,
  }),
  route({
    method: "POST",
    path: `${SUBSCRIPTION}/rotate-secret`,
    operationId: "rotateSubscriptionSecret",
    summary: "Rotate a webhook's signing secret",
    description:
      "The new secret (generated when not given, and then shown this once) signs from now on; the old one keeps signing beside it for graceSeconds (default 24 h), so receivers can switch without missing a delivery.",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    body: jsonBody(RotateSecretSchema, false),
    responses: { 200: { description: "Rotated.", body: RotateSecretResponseSchema } },
    refusals: [...SUBSCRIPTION_REFUSALS, ...SUBSCRIPTION_BODY_REFUSALS],
    middleware: [subscriptionBodyLimit],
    handler: rotateSubscriptionSecret,
  }),
  route({
    method: "GET",
    path: `${SUBSCRIPTION}/dead-letters`,
    operationId: "listSubscriptionDeadLetters",
    summary: "List the subscription's dead letters",
    description: "A page at a time, in seq order: pass next as cursor for the page after.",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    query: SubscriptionDeadLetterQuerySchema,
    responses: { 200: { description: "In seq order.", body: SubscriptionDeadLetterListSchema } },
    refusals: [...SUBSCRIPTION_REFUSALS, "invalid_query"],
    handler: listSubscriptionDeadLetters,
  }),
  route({
    method: "POST",
    path: `${SUBSCRIPTION}/dead-letters/redrive`,
    operationId: "redriveSubscriptionDeadLetters",
    summary: "Deliver the subscription's dead letters again",
    description: "Without a body (or without seqs), every dead letter of the subscription.",
    access: topicOp("admin"),
    params: SUBSCRIPTION_PARAMS,
    body: jsonBody(RedriveSchema, false),
    responses: {
      202: {
        description: "Queued: the topic's alarm delivers them in seq order.",
        body: SubscriptionRedriveResponseSchema,
      },
    },
    refusals: [...SUBSCRIPTION_REFUSALS, ...SUBSCRIPTION_BODY_REFUSALS, "dead_letter_not_found"],
    middleware: [subscriptionBodyLimit],
    handler: redriveSubscriptionDeadLetters,
  }),
  route({
    method: "GET",
    path: `${TOPIC}/stats`,
    operationId: "getTopicStats",
    summary: "What the topic has done and holds",
    description:
      "Counters for operators: publishes, events, duplicates, retained bytes, live sockets, subscriptions, dead letters, gaps.",
    access: topicOp("admin"),
    params: TOPIC_PARAMS,
    responses: { 200: { description: "The topic's counters.", body: TopicStatsSchema } },
    refusals: [],
    handler: topicStats,
  }),
  route({
    method: "GET",
    path: TOPIC,
    operationId: "getTopic",
    summary: "Where the topic's log stands",
    access: topicOp("history"),
    params: TOPIC_PARAMS,
    responses: { 200: { description: "The topic's position and retention.", body: TopicInfoSchema } },
    refusals: [],
    handler: topicInfo,
  }),
  route({
    method: "GET",
    path: "/v1/topics",
    operationId: "listTopics",
    summary: "List every topic",
    access: { op: "admin" },
    responses: { 200: { description: "Every topic that has been used.", body: TopicListSchema } },
    refusals: [],
    handler: listTopics,
  }),
  route({
    method: "POST",
    path: "/v1/tokens",
    operationId: "mintToken",
    summary: "Mint a subscriber token for browsers",
    description:
      "The token's topics must lie inside the key's own. ops defaults to subscribe and history; publish (browser publishing, on the topics named) is allowed only when the key itself allows publish, else 403 forbidden.",
    access: { op: "mint", rateLimit: "mint" },
    body: jsonBody(TokenRequestSchema),
    responses: { 201: { description: "A token within the key's own topics.", body: TokenResponseSchema } },
    refusals: JSON_BODY_REFUSALS,
    handler: mintSubscriberToken,
  }),
  route({
    method: "POST",
    path: "/v1/tokens/revocations",
    operationId: "revokeTokens",
    summary: "Revoke a subscriber token, or every token of a subject",
    description:
      "Refused from now until such a token would have expired anyway (24 h at most), and every open socket of it closed with 4401. Takes an admin key for every topic.",
    access: { op: "admin" },
    body: jsonBody(RevocationRequestSchema),
    responses: { 200: { description: "Revoked.", body: RevocationResponseSchema } },
    refusals: JSON_BODY_REFUSALS,
    handler: revokeTokens,
  }),
  route({
    method: "GET",
    path: "/v1/schemas",
    operationId: "getCatalogSchemas",
    summary: "The event catalog as JSON Schema",
    access: { public: true },
    responses: { 200: { description: "One JSON Schema per catalog type.", body: CatalogSchemasSchema } },
    refusals: [],
    handler: catalogSchemas,
  }),
  route({
    method: "GET",
    path: "/v1/openapi.json",
    operationId: "getOpenApi",
    summary: "This description of the HTTP API (OpenAPI 3.1)",
    access: { public: true },
    responses: { 200: { description: "The OpenAPI document.", body: OpenApiDocumentSchema } },
    refusals: [],
    handler: openApiJson,
  }),
  route({
    method: "GET",
    path: "/v1/asyncapi.json",
    operationId: "getAsyncApi",
    summary: "The description of the WebSocket protocol (AsyncAPI 3.0)",
    access: { public: true },
    responses: { 200: { description: "The AsyncAPI document.", body: AsyncApiDocumentSchema } },
    refusals: [],
    handler: asyncApiJson,
  }),
  route({
    method: "GET",
    path: "/v1/dead-letters",
    operationId: "listDeadLetters",
    summary: "List dead letters of subscriptions and queue consumers",
    description:
      "A page at a time, in a stable order: every subscription dead letter (topics in name order, then subscription, then seq), then every queue dead letter in the order they were recorded. Pass next as cursor for the page after; a walk shows every dead letter that exists throughout it exactly once.",
    access: { op: "admin" },
    query: DeadLetterListQuerySchema,
    responses: { 200: { description: "In listing order.", body: DeadLetterListSchema } },
    refusals: ["invalid_query"],
    handler: listAllDeadLetters,
  }),
  route({
    method: "POST",
    path: "/v1/dead-letters/redrive",
    operationId: "redriveDeadLetters",
    summary: "Redrive several dead letters",
    description: "All or nothing: if one id names no dead letter, nothing is redriven.",
    access: { op: "admin" },
    body: jsonBody(RedriveBodySchema),
    responses: { 202: { description: "Sent again to where they failed.", body: RedriveResponseSchema } },
    refusals: [...JSON_BODY_REFUSALS, "dead_letter_not_found"],
    handler: redriveManyDeadLetters,
  }),
  route({
    method: "GET",
    path: "/v1/dead-letters/:id",
    operationId: "getDeadLetter",
    summary: "Read one dead letter",
    access: { op: "admin" },
    params: DEAD_LETTER_PARAMS,
    responses: { 200: { description: "The dead letter with its event.", body: DeadLetterSchema } },
    refusals: ["dead_letter_not_found"],
    handler: getOneDeadLetter,
  }),
  route({
    method: "DELETE",
    path: "/v1/dead-letters/:id",
    operationId: "deleteDeadLetter",
    summary: "Delete one dead letter",
    access: { op: "admin" },
    params: DEAD_LETTER_PARAMS,
    responses: { 204: { description: "Deleted." } },
    refusals: ["dead_letter_not_found"],
    handler: deleteOneDeadLetter,
  }),
  route({
    method: "POST",
    path: "/v1/dead-letters/:id/redrive",
    operationId: "redriveDeadLetter",
    summary: "Redrive one dead letter",
    access: { op: "admin" },
    params: DEAD_LETTER_PARAMS,
    responses: { 202: { description: "Sent again to where it failed.", body: RedriveResponseSchema } },
    refusals: ["dead_letter_not_found"],
    handler: redriveOneDeadLetter,
  }),
];
