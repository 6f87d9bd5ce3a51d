import { demoUsers } from "../../durable-objects/demo-users.ts";
import type { TokenResponse } from "../../protocol/auth.ts";
import { notificationTopic, USERS_TOPIC } from "../../protocol/demo.ts";
import type { Env } from "../../runtime/env.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import { mintToken } from "../auth/tokens.ts";

/** How long a demo page's token lives; the client fetches a fresh one on every reconnect. */
const DEMO_TOKEN_TTL_SECONDS = 300;
const NOTIFICATIONS_PREFIX = notificationTopic("");

/**
 * The demo backend mints subscriber tokens for its pages, as any backend of the mesh would: the
 * signup page may follow the users topic and the notification topic of a registered user.
 * (A real app would tie the user's topic to its session; the demo has no login.)
 */
export async function demoToken(env: Env, topic: string): Promise<TokenResponse> {
  const allowed =
    topic === USERS_TOPIC ||
    (topic.startsWith(NOTIFICATIONS_PREFIX) && (await demoUsers(env).exists(topic.slice(NOTIFICATIONS_PREFIX.length))));
  if (!allowed) {
    throw new MeshError(
      "forbidden",
      `the demo hands out tokens only for "${USERS_TOPIC}" and a registered user's notifications`,
      {
        topic,
      },
    );
  }
  if (!env.MESH_TOKEN_SECRET)
    throw new MeshError("auth_not_configured", "tokens are not enabled (MESH_TOKEN_SECRET is unset)");
  const request = {
    topics: [topic],
    ops: ["subscribe" as const, "history" as const],
    ttlSeconds: DEMO_TOKEN_TTL_SECONDS,
  };
  const { token, claims } = await mintToken(
    request,
    { id: "demo", secret: "", topics: [topic], ops: ["mint"] },
    env.MESH_TOKEN_SECRET,
  );
  return {
    token,
    id: claims.jti,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    topics: claims.topics,
    ops: claims.ops,
  };
}
