import type { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { demoNotifications } from "../../durable-objects/demo-notifications.ts";
import { demoUsers } from "../../durable-objects/demo-users.ts";
import { FailureSwitchRequestSchema, SignupSchema } from "../../protocol/demo.ts";
import type { AppEnv } from "../../runtime/env.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import { readJsonBody } from "../read-json-body.ts";
import { checkTopic } from "../topic-param.ts";
import { parseBody } from "../validate.ts";
import { demoToken } from "./demo-token.ts";
import { registerUser } from "./user-service.ts";

/** Demo request bodies are a few fields: anything larger is refused before it is parsed. */
const MAX_DEMO_BODY_BYTES = 4096;

const limitBody = bodyLimit({
  maxSize: MAX_DEMO_BODY_BYTES,
  onError: () => {
    throw new MeshError("body_too_large", `a demo request body is at most ${MAX_DEMO_BODY_BYTES} bytes`, {
      limit: MAX_DEMO_BODY_BYTES,
    });
  },
});

/**
 * The demo's services: `POST /demo/users` (User Service), the outbox and the failure switch of
 * the Notification Service. They are ordinary backends of the mesh, not part of its API.
 */
export function demoRoutes(app: Hono<AppEnv>): void {
  app.post("/demo/users", limitBody, async (c) => {
    const signup = parseBody(SignupSchema, await readJsonBody(c.req.raw));
    const result = await registerUser(c.env, signup);
    return c.json(result, result.created ? 201 : 200);
  });

  app.get("/demo/token", async (c) => c.json(await demoToken(c.env, checkTopic(c.req.query("topic")))));

  app.get("/demo/users", async (c) => c.json({ users: await demoUsers(c.env).list() }));

  app.get("/demo/outbox", async (c) => {
    const userId = c.req.query("userId") || undefined;
    return c.json({ emails: await demoNotifications(c.env).outbox(userId) });
  });

  app.get("/demo/notification-service", async (c) => c.json(await demoNotifications(c.env).failureSwitch()));

  app.put("/demo/notification-service", limitBody, async (c) => {
    const request = parseBody(FailureSwitchRequestSchema, await readJsonBody(c.req.raw));
    return c.json(await demoNotifications(c.env).setFailureSwitch(request.failing, request.forSeconds));
  });
}
