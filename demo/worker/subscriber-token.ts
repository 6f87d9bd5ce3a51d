import type { TokenRequest, TokenResponse } from "event-mesh/client";
import { notificationTopic } from "../api-shapes.ts";
import { userStore } from "../durable-objects/user-store.ts";
import { type DemoEnv, requireSecret } from "./env.ts";
import { DemoError } from "./errors.ts";
import type { MeshLink } from "./mesh-link.ts";

/** Short-lived: the page's client asks for a fresh token on every reconnect and when one expires. */
export const TOKEN_TTL_SECONDS = 120;

/**
 * A subscriber token for the notification topic of one of the visitor's own users, minted by the
 * mesh (`POST /v1/tokens`) with the Notification Service's key. It allows only that one topic,
 * and only reading it: a visitor's page can never follow anyone else's notifications.
 */
export async function notificationToken(
  mesh: MeshLink,
  env: DemoEnv,
  visitor: string,
  userId: string,
): Promise<TokenResponse> {
  const key = requireSecret(env, "DEMO_NOTIFICATIONS_KEY");
  if (!(await userStore(env).userOf(visitor, userId))) {
    throw new DemoError("user_not_found", `no user "${userId}" was registered from this browser`);
  }
  const request: TokenRequest = {
    topics: [notificationTopic(userId)],
    ops: ["subscribe", "history"],
    ttlSeconds: TOKEN_TTL_SECONDS,
    subject: userId,
  };
  return mesh.json<TokenResponse>("mint a subscriber token", key, "POST", "/v1/tokens", request);
}
