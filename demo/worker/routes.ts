import type { Context, Handler, MiddlewareHandler } from "hono";
import {
  FailureSwitchRequestSchema,
  type OutboxAnswer,
  OutboxQuerySchema,
  SignupSchema,
  TokenQuerySchema,
} from "../api-shapes.ts";
import { notificationStore } from "../durable-objects/notification-store.ts";
import { userStore } from "../durable-objects/user-store.ts";
import type { DemoApp } from "./app-env.ts";
import { DemoError } from "./errors.ts";
import { limitBody, readBody, readQuery } from "./request-input.ts";
import { notificationToken } from "./subscriber-token.ts";
import { registerUser, visitorUsers } from "./user-service.ts";

export type DemoMethod = "GET" | "POST" | "PUT";

/** One route of the demo's API: the only place its path and method are written. */
export interface DemoRoute {
  readonly method: DemoMethod;
  readonly path: string;
  readonly summary: string;
  /** Runs before the handler (body limits). */
  readonly middleware?: readonly MiddlewareHandler<DemoApp>[];
  readonly handler: Handler<DemoApp>;
}

/** The visitor's user named by `userId`, or a 404 that says nothing of other visitors' users. */
async function requireOwnUser(c: Context<DemoApp>, userId: string): Promise<void> {
  if (!(await userStore(c.env).userOf(c.var.visitor, userId))) {
    throw new DemoError("user_not_found", `no user "${userId}" was registered from this browser`);
  }
}

/**
 * Every route of the demo's API. Each acts for the visitor of the cookie and only on what that
 * visitor registered; none lists anyone else's users. This table drives the router and the 405
 * answers with their `Allow` header.
 */
export const DEMO_ROUTES: readonly DemoRoute[] = [
  {
    method: "POST",
    path: "/demo/users",
    summary: "User Service: register a user for this visitor",
    middleware: [limitBody],
    handler: async (c) => {
      const signup = await readBody(c.req.raw, SignupSchema);
      const answer = await registerUser(c.var.mesh, c.env, c.var.visitor, signup);
      return c.json(answer, answer.created ? 201 : 200);
    },
  },
  {
    method: "GET",
    path: "/demo/me",
    summary: "This visitor's users, and the newest one's registration",
    handler: async (c) => c.json(await visitorUsers(c.var.mesh, c.env, c.var.visitor)),
  },
  {
    method: "GET",
    path: "/demo/token",
    summary: "A subscriber token for the notification topic of one of this visitor's users",
    handler: async (c) => {
      const { userId } = readQuery(c.req.url, TokenQuerySchema);
      return c.json(await notificationToken(c.var.mesh, c.env, c.var.visitor, userId));
    },
  },
  {
    method: "GET",
    path: "/demo/outbox",
    summary: "The welcome emails sent to this visitor's users",
    handler: async (c) => {
      const { userId } = readQuery(c.req.url, OutboxQuerySchema);
      if (userId !== undefined) await requireOwnUser(c, userId);
      const answer: OutboxAnswer = { emails: await notificationStore(c.env, c.var.visitor).outbox(userId) };
      return c.json(answer);
    },
  },
  {
    method: "GET",
    path: "/demo/failure-switch",
    summary: "This visitor's failure switch of the Notification Service",
    handler: async (c) => c.json(await notificationStore(c.env, c.var.visitor).failureSwitch()),
  },
  {
    method: "PUT",
    path: "/demo/failure-switch",
    summary: "Turn this visitor's failure switch on (optionally for a while) or off",
    middleware: [limitBody],
    handler: async (c) => {
      const request = await readBody(c.req.raw, FailureSwitchRequestSchema);
      return c.json(
        await notificationStore(c.env, c.var.visitor).setFailureSwitch(request.failing, request.forSeconds),
      );
    },
  },
];

/** Each declared path with the methods it takes, for 405 answers and their `Allow`. */
export function allowedMethods(routes: readonly DemoRoute[] = DEMO_ROUTES): Map<string, DemoMethod[]> {
  const byPath = new Map<string, DemoMethod[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route.method]);
  return byPath;
}
