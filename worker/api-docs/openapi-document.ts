import type { JsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { PUBLIC_OPERATIONS, TokenRequestSchema, TokenResponseSchema } from "../../protocol/auth.ts";
import type { Catalog } from "../../protocol/catalog.ts";
import {
  DeadLetterListSchema,
  RedriveBodySchema,
  RedriveResponseSchema,
  SubscriptionDeadLetterListSchema,
} from "../../protocol/dead-letter-api.ts";
import { DeadLetterSchema } from "../../protocol/dead-letters.ts";
import { CloudEventSchema } from "../../protocol/envelope.ts";
import { ERROR_STATUS, ErrorBodySchema, type ErrorCode, errorBodySchema } from "../../protocol/error-codes.ts";
import { EventFilterListSchema, EventFilterSchema } from "../../protocol/event-filter.ts";
import { StoredEventSchema } from "../../protocol/mesh-event.ts";
import { CloudEventBatchSchema, CloudEventOrBatchSchema } from "../../protocol/publish-request.ts";
import {
  CatalogSchemasSchema,
  HistoryPageSchema,
  PublishResponseSchema,
  TopicInfoSchema,
  TopicListSchema,
} from "../../protocol/responses.ts";
import {
  PutSubscriptionResponseSchema,
  RedriveSchema,
  RotateSecretResponseSchema,
  SeekSchema,
  SubscriptionConfigSchema,
  SubscriptionListSchema,
  SubscriptionRedriveResponseSchema,
  SubscriptionViewSchema,
  WebhookPayloadSchema,
} from "../../protocol/subscriptions.ts";
import { accessRefusals } from "../auth/route-guard.ts";
import type { RouteAccess, RouteBody, RouteDef } from "../routes/route-def.ts";
import { DocumentSchemas } from "./document-schemas.ts";

export const OPENAPI_VERSION = "3.1.1";

/**
 * What `GET /v1/openapi.json` promises of its answer; the full check is the official OpenAPI 3.1
 * meta-schema, which the end-to-end test runs on it.
 */
export const OpenApiDocumentSchema = v.looseObject({
  openapi: v.literal(OPENAPI_VERSION),
  info: v.looseObject({ title: v.string(), version: v.string() }),
  paths: v.record(v.string(), v.looseObject({})),
});
export type OpenApiDocument = v.InferOutput<typeof OpenApiDocumentSchema>;

/** The shapes of the HTTP API under their component names, so generated clients name their types. */
const HTTP_SCHEMAS: Record<string, v.GenericSchema> = {
  StoredEvent: StoredEventSchema,
  CloudEvent: CloudEventSchema,
  CloudEventBatch: CloudEventBatchSchema,
  CloudEventOrBatch: CloudEventOrBatchSchema,
  PublishResponse: PublishResponseSchema,
  HistoryPage: HistoryPageSchema,
  TopicInfo: TopicInfoSchema,
  TopicList: TopicListSchema,
  CatalogSchemas: CatalogSchemasSchema,
  TokenRequest: TokenRequestSchema,
  TokenResponse: TokenResponseSchema,
  SubscriptionConfig: SubscriptionConfigSchema,
  SubscriptionView: SubscriptionViewSchema,
  PutSubscriptionResponse: PutSubscriptionResponseSchema,
  // Named so the filters inside it are a $ref: a recursive schema cannot be converted in place.
  RotateSecretResponse: RotateSecretResponseSchema,
  SubscriptionList: SubscriptionListSchema,
  SeekRequest: SeekSchema,
  SubscriptionRedriveRequest: RedriveSchema,
  SubscriptionRedriveResponse: SubscriptionRedriveResponseSchema,
  SubscriptionDeadLetterList: SubscriptionDeadLetterListSchema,
  DeadLetter: DeadLetterSchema,
  DeadLetterList: DeadLetterListSchema,
  RedriveRequest: RedriveBodySchema,
  RedriveResponse: RedriveResponseSchema,
  WebhookPayload: WebhookPayloadSchema,
  ErrorBody: ErrorBodySchema,
  EventFilter: EventFilterSchema,
  EventFilterList: EventFilterListSchema,
};

type Json = { [key: string]: unknown };

/** hono's `/v1/topics/:topic` is OpenAPI's `/v1/topics/{topic}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/**
 * The OpenAPI 3.1 document of an app's HTTP API, generated from its route table and catalog: every
 * route with its parameters, request body, success answers and every refusal it can give (the
 * error body, its `code` narrowed to the codes of that status), the webhook a subscription sends,
 * and the catalog's data schemas. `servers` is left to the caller, who knows the origin.
 */
export function openApiDocument(routes: readonly RouteDef[], catalog: Catalog): OpenApiDocument {
  const schemas = new DocumentSchemas(HTTP_SCHEMAS, catalog, "draft-2020-12");
  // Most routes share their refusals of a status (401, 403, 500, …): each set is converted once.
  const errorBodies = new Map<string, JsonSchema>();
  const errorBody = (codes: ErrorCode[]) => {
    const key = codes.join(",");
    const schema = errorBodies.get(key) ?? schemas.of(errorBodySchema(codes));
    errorBodies.set(key, schema);
    return schema;
  };
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, schemas, errorBody) };
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "event-mesh",
      version: "1",
      description: infoDescription(schemas.catalogNames),
    },
    paths,
    webhooks: {
      subscriptionDelivery: {
        post: {
          summary: "A delivery of a webhook subscription",
          description:
            "Sent to a subscription's URL, signed with Standard Webhooks: webhook-id (the same on every retry of a delivery), webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256 of id.timestamp.body>). x-mesh-attempt counts the attempts; traceparent carries the first event's trace. Any 2xx answer is success; anything else is retried with the subscription's policy.",
          requestBody: {
            required: true,
            content: { "application/json": { schema: schemas.of(WebhookPayloadSchema) } },
          },
          responses: { "2XX": { description: "Delivered: the cursor moves past these events." } },
        },
      },
    },
    components: {
      schemas: schemas.components,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "A publisher key, or a subscriber token minted with POST /v1/tokens (a JWT).",
        },
        queryToken: {
          type: "apiKey",
          in: "query",
          name: "token",
          description:
            "A subscriber token (or key) in the query, for browsers, which cannot set headers on a WebSocket.",
        },
      },
    },
  };
}

function infoDescription(catalogNames: ReadonlyMap<string, string>): string {
  const catalog =
    catalogNames.size === 0
      ? "This deployment has no event catalog: every event type is accepted and only the envelope is checked."
      : `This deployment's event catalog: ${[...catalogNames].map(([type, name]) => `${type} (its data: #/components/schemas/${name})`).join(", ")}.`;
  return [
    "A realtime event mesh: CloudEvents published to per-topic ordered logs, read by page, followed live over WebSockets (GET /v1/asyncapi.json describes the socket), and delivered by durable subscriptions.",
    "Every refusal is the JSON error body with a stable code. A path not listed here answers 404 not_found; a listed path called with another method answers 405 method_not_allowed with an Allow header.",
    catalog,
  ].join("\n\n");
}

function operation(route: RouteDef, schemas: DocumentSchemas, errorBody: (codes: ErrorCode[]) => JsonSchema): Json {
  const responses: Json = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    responses[status] = answer.body
      ? { description: answer.description, content: { "application/json": { schema: schemas.of(answer.body) } } }
      : { description: answer.description };
  }
  for (const [status, codes] of refusalsByStatus(route)) {
    responses[status] = {
      description: `Refused: ${codes.join(", ")}.`,
      content: { "application/json": { schema: errorBody(codes) } },
    };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: [route.description, accessText(route.access)].filter(Boolean).join("\n\n"),
    security: security(route.access),
    parameters: parameters(route, schemas),
    ...(route.body ? { requestBody: requestBody(route.body, schemas) } : {}),
    responses,
  };
}

/** Every refusal of a route (its own, its access checks', and `internal`), grouped by status. */
function refusalsByStatus(route: RouteDef): Map<number, ErrorCode[]> {
  const codes = new Set<ErrorCode>([...accessRefusals(route.access), ...route.refusals, "internal"]);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return byStatus;
}

function accessText(access: RouteAccess): string {
  if ("public" in access) return "Public: no credential.";
  const where = access.topic ? " on the topic" : "";
  const limited = access.rateLimit ? " Rate limited per credential and per client address." : "";
  const open =
    access.topic && (PUBLIC_OPERATIONS as readonly string[]).includes(access.op)
      ? " No credential is needed on a topic listed in PUBLIC_TOPICS."
      : "";
  return `Needs a credential allowing \`${access.op}\`${where}.${open}${limited}`;
}

function security(access: RouteAccess): Json[] {
  if ("public" in access) return [];
  return access.tokenInQuery ? [{ bearer: [] }, { queryToken: [] }] : [{ bearer: [] }];
}

function parameters(route: RouteDef, schemas: DocumentSchemas): Json[] {
  const path = Object.entries(route.params ?? {}).map(([name, schema]) => ({
    name,
    in: "path",
    required: true,
    schema: schemas.of(schema),
  }));
  const query = Object.entries(route.query ? queryEntries(route.query) : {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: !["optional", "exact_optional", "nullish"].includes(schema.type),
    schema: schemas.of(schema),
  }));
  return [...path, ...query];
}

/** The entries of a query schema: an object schema, or a pipe that starts with one (cross-field checks). */
function queryEntries(schema: v.GenericSchema): v.ObjectEntries {
  const object: v.GenericSchema = "pipe" in schema ? (schema.pipe as v.GenericSchema[])[0] : schema;
  if (!("entries" in object)) throw new Error("a route's query schema must be an object schema");
  return object.entries as v.ObjectEntries;
}

function requestBody(body: RouteBody, schemas: DocumentSchemas): Json {
  const content: Record<string, { schema: JsonSchema }> = {};
  for (const [media, schema] of Object.entries(body.content)) content[media] = { schema: schemas.of(schema) };
  return { required: body.required, content };
}
