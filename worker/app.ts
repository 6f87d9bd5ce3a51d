import { type Context, Hono } from "hono";
import { guardRoutes } from "./auth/route-policy.ts";
import { demoRoutes } from "./demo/routes.ts";
import type { AppEnv } from "./env.ts";
import { errorResponse, MeshError } from "./mesh-error.ts";
import { deadLetterRoutes } from "./routes/dead-letters.ts";
import { liveRoutes } from "./routes/live.ts";
import { publishRoutes } from "./routes/publish.ts";
import { schemaRoutes } from "./routes/schemas.ts";
import { subscriptionRoutes } from "./routes/subscriptions.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { topicRoutes } from "./routes/topics.ts";
import { topicListRoutes } from "./routes/topics-list.ts";
import { refuseSocket } from "./socket-refusal.ts";

/** Paths and the methods they take, so any other method gets a 405 with an Allow header. */
const ALLOWED: Record<string, string[]> = {
  "/v1/topics/:topic/events": ["GET", "POST"],
  "/v1/topics/:topic": ["GET"],
  "/v1/topics/:topic/ws": ["GET"],
  "/v1/schemas": ["GET"],
  "/v1/tokens": ["POST"],
  "/v1/topics": ["GET"],
  "/v1/topics/:topic/subscriptions": ["GET"],
  "/v1/topics/:topic/subscriptions/:name": ["GET", "PUT", "DELETE"],
  "/v1/topics/:topic/subscriptions/:name/pause": ["POST"],
  "/v1/topics/:topic/subscriptions/:name/resume": ["POST"],
  "/v1/topics/:topic/subscriptions/:name/seek": ["POST"],
  "/v1/topics/:topic/subscriptions/:name/dead-letters": ["GET"],
  "/v1/topics/:topic/subscriptions/:name/dead-letters/redrive": ["POST"],
  "/v1/dead-letters": ["GET"],
  // Before the :id entry, so other methods on it answer with POST as the allowed one.
  "/v1/dead-letters/redrive": ["POST"],
  "/v1/dead-letters/:id": ["GET", "DELETE"],
  "/v1/dead-letters/:id/redrive": ["POST"],
  "/demo/users": ["GET", "POST"],
  "/demo/outbox": ["GET"],
  "/demo/token": ["GET"],
  "/demo/notification-service": ["GET", "PUT"],
};

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  guardRoutes(app);
  tokenRoutes(app);
  publishRoutes(app);
  topicListRoutes(app);
  topicRoutes(app);
  liveRoutes(app);
  schemaRoutes(app);
  subscriptionRoutes(app);
  deadLetterRoutes(app);
  demoRoutes(app);
  for (const [path, methods] of Object.entries(ALLOWED)) {
    app.all(path, (c) => {
      throw new MeshError(
        "method_not_allowed",
        `${c.req.method} is not allowed on ${path}; use ${methods.join(" or ")}`,
        {
          allow: methods,
        },
        { allow: methods.join(", ") },
      );
    });
  }
  // A WebSocket client cannot read an HTTP 4xx, only a close code: upgrades are refused on the socket.
  const refuse = (err: unknown, c: Context<AppEnv>) =>
    err instanceof MeshError && c.req.header("upgrade")?.toLowerCase() === "websocket"
      ? refuseSocket(err.code, err.message)
      : errorResponse(err);
  app.notFound((c) =>
    refuse(new MeshError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), c),
  );
  app.onError(refuse);
  return app;
}
