import type { Handler, MiddlewareHandler } from "hono";
import type { Operation } from "../../protocol/auth.ts";
import type { AppEnv } from "../app-env.ts";
import {
  deleteOneDeadLetter,
  getOneDeadLetter,
  listAllDeadLetters,
  redriveManyDeadLetters,
  redriveOneDeadLetter,
} from "./dead-letters.ts";
import { openLiveSocket } from "./live.ts";
import { publishBodyLimit, publishEvents } from "./publish.ts";
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
  seekSubscription,
  subscriptionBodyLimit,
} from "./subscriptions.ts";
import { mintSubscriberToken } from "./tokens.ts";
import { topicHistory, topicInfo } from "./topics.ts";
import { listTopics } from "./topics-list.ts";

/**
 * What a route needs of its caller. `public` routes take no credential; every other route names
 * the operation its credential must allow, on the route's `:topic` when `topic` is set.
 */
export type RouteAccess =
  | { readonly public: true }
  | {
      readonly op: Operation;
      /** The operation is checked on the topic of the path, not on the deployment. */
      readonly topic?: true;
      /** Browsers cannot set headers on a WebSocket: the token may come as `?token=`. */
      readonly tokenInQuery?: true;
      readonly rateLimit?: "publish" | "mint";
    };

export type RouteMethod = "GET" | "POST" | "PUT" | "DELETE";

/** One route of the HTTP API: the only place its path, method and policy are written. */
export interface RouteDef {
  readonly method: RouteMethod;
  readonly path: string;
  readonly summary: string;
  readonly access: RouteAccess;
  /** Runs after the access check, before the handler (body limits). */
  readonly middleware?: readonly MiddlewareHandler<AppEnv>[];
  readonly handler: Handler<AppEnv>;
}

const topicOp = (op: Operation, extra: Omit<Extract<RouteAccess, { op: Operation }>, "op" | "topic"> = {}) =>
  ({ op, topic: true, ...extra }) as const;
const TOPIC = "/v1/topics/:topic";
const SUBSCRIPTION = `${TOPIC}/subscriptions/:name`;

/**
 * Every route of the HTTP API. This table drives the router, the 405 answers and their `Allow`
 * header, the auth policy and the security test; a path or method missing here is not served.
 * Static paths come before the parameter paths they would otherwise match.
 */
export const ROUTES: readonly RouteDef[] = [
  {
    method: "POST",
    path: `${TOPIC}/events`,
    summary: "Publish CloudEvents (structured, batch or binary mode)",
    access: topicOp("publish", { rateLimit: "publish" }),
    middleware: [publishBodyLimit],
    handler: publishEvents,
  },
  {
    method: "GET",
    path: `${TOPIC}/events`,
    summary: "Read a page of the topic's history",
    access: topicOp("history"),
    handler: topicHistory,
  },
  {
    method: "GET",
    path: `${TOPIC}/ws`,
    summary: "Follow the topic live over a WebSocket",
    access: topicOp("subscribe", { tokenInQuery: true }),
    handler: openLiveSocket,
  },
  {
    method: "GET",
    path: `${TOPIC}/subscriptions`,
    summary: "List the topic's durable subscriptions",
    access: topicOp("admin"),
    handler: listSubscriptions,
  },
  {
    method: "PUT",
    path: SUBSCRIPTION,
    summary: "Create or update a durable subscription",
    access: topicOp("admin"),
    middleware: [subscriptionBodyLimit],
    handler: putSubscription,
  },
  {
    method: "GET",
    path: SUBSCRIPTION,
    summary: "Read a durable subscription",
    access: topicOp("admin"),
    handler: getSubscription,
  },
  {
    method: "DELETE",
    path: SUBSCRIPTION,
    summary: "Delete a durable subscription",
    access: topicOp("admin"),
    handler: deleteSubscription,
  },
  {
    method: "POST",
    path: `${SUBSCRIPTION}/pause`,
    summary: "Pause delivery",
    access: topicOp("admin"),
    handler: pauseSubscription,
  },
  {
    method: "POST",
    path: `${SUBSCRIPTION}/resume`,
    summary: "Resume delivery",
    access: topicOp("admin"),
    handler: resumeSubscription,
  },
  {
    method: "POST",
    path: `${SUBSCRIPTION}/seek`,
    summary: "Move the subscription's cursor",
    access: topicOp("admin"),
    middleware: [subscriptionBodyLimit],
    handler: seekSubscription,
  },
  {
    method: "GET",
    path: `${SUBSCRIPTION}/dead-letters`,
    summary: "List the subscription's dead letters",
    access: topicOp("admin"),
    handler: listSubscriptionDeadLetters,
  },
  {
    method: "POST",
    path: `${SUBSCRIPTION}/dead-letters/redrive`,
    summary: "Deliver the subscription's dead letters again",
    access: topicOp("admin"),
    middleware: [subscriptionBodyLimit],
    handler: redriveSubscriptionDeadLetters,
  },
  {
    method: "GET",
    path: TOPIC,
    summary: "Where the topic's log stands",
    access: topicOp("history"),
    handler: topicInfo,
  },
  {
    method: "GET",
    path: "/v1/topics",
    summary: "List every topic",
    access: { op: "admin" },
    handler: listTopics,
  },
  {
    method: "POST",
    path: "/v1/tokens",
    summary: "Mint a subscriber token for browsers",
    access: { op: "mint", rateLimit: "mint" },
    handler: mintSubscriberToken,
  },
  {
    method: "GET",
    path: "/v1/schemas",
    summary: "The event catalog as JSON Schema",
    access: { public: true },
    handler: catalogSchemas,
  },
  {
    method: "GET",
    path: "/v1/dead-letters",
    summary: "List dead letters of subscriptions and queue consumers",
    access: { op: "admin" },
    handler: listAllDeadLetters,
  },
  {
    method: "POST",
    path: "/v1/dead-letters/redrive",
    summary: "Redrive several dead letters",
    access: { op: "admin" },
    handler: redriveManyDeadLetters,
  },
  {
    method: "GET",
    path: "/v1/dead-letters/:id",
    summary: "Read one dead letter",
    access: { op: "admin" },
    handler: getOneDeadLetter,
  },
  {
    method: "DELETE",
    path: "/v1/dead-letters/:id",
    summary: "Delete one dead letter",
    access: { op: "admin" },
    handler: deleteOneDeadLetter,
  },
  {
    method: "POST",
    path: "/v1/dead-letters/:id/redrive",
    summary: "Redrive one dead letter",
    access: { op: "admin" },
    handler: redriveOneDeadLetter,
  },
];

const METHOD_ORDER: readonly RouteMethod[] = ["GET", "POST", "PUT", "DELETE"];

/** Each declared path (in table order) with the methods it takes, for 405 answers and their `Allow`. */
export function allowedMethods(routes: readonly RouteDef[] = ROUTES): Map<string, RouteMethod[]> {
  const byPath = new Map<string, RouteMethod[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route.method]);
  for (const [path, methods] of byPath)
    byPath.set(
      path,
      METHOD_ORDER.filter((m) => methods.includes(m)),
    );
  return byPath;
}
