import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import { demoNotifications } from "../../durable-objects/demo-notifications.ts";
import { demoUsers } from "../../durable-objects/demo-users.ts";
import { FailureSwitchRequestSchema, SignupSchema } from "../../protocol/demo.ts";
import type { AppEnv } from "../env.ts";
import { MeshError } from "../mesh-error.ts";
import { checkTopic } from "../topic-param.ts";
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

/** Reads a JSON body with a protocol schema; every issue is named with its field for the form. */
async function readBody<T extends v.GenericSchema>(c: Context, schema: T): Promise<v.InferOutput<T>> {
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new MeshError("malformed_json", "the body is not valid JSON");
  }
  const result = v.safeParse(schema, value);
  if (!result.success) {
    const issues = result.issues.map((i) => ({
      path: i.path?.map((p) => String(p.key)).join(".") ?? "",
      message: i.message,
    }));
    throw new MeshError("invalid_body", issues[0].message, { issues });
  }
  return result.output;
}

/**
 * The demo's services: `POST /demo/users` (User Service), the outbox and the failure switch of
 * the Notification Service. They are ordinary backends of the mesh, not part of its API.
 */
export function demoRoutes(app: Hono<AppEnv>): void {
  app.post("/demo/users", limitBody, async (c) => {
    const signup = await readBody(c, SignupSchema);
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
    const request = await readBody(c, FailureSwitchRequestSchema);
    return c.json(await demoNotifications(c.env).setFailureSwitch(request.failing, request.forSeconds));
  });
}
