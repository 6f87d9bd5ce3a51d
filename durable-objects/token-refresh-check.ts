import { checkRefresh, type RefreshCheck, type SocketCredential } from "../protocol/socket-credential.ts";
import type { Env } from "../runtime/env.ts";
import { checkToken } from "../runtime/tokens.ts";
import { tokenRevocations } from "./token-revocations.ts";

/**
 * Checks an in-band refresh (`auth:<token>`) on a socket following `topics` that runs on `current`: the
 * fresh token must pass the checks it would at connect (signature, expiry, not revoked) and be no
 * wider than the token it replaces.
 */
export async function checkTokenRefresh(
  env: Env,
  current: SocketCredential,
  topics: readonly string[],
  token: string,
): Promise<RefreshCheck> {
  if (!env.MESH_TOKEN_SECRET) {
    return { ok: false, code: "unauthorized", message: "tokens are not enabled (MESH_TOKEN_SECRET is unset)" };
  }
  const checked = await checkToken(token, env.MESH_TOKEN_SECRET);
  if (!checked.ok) return checked;
  if (await tokenRevocations(env).isRevoked(checked.claims.jti, checked.claims.sub)) {
    return { ok: false, code: "token_revoked", message: "this token was revoked: get a new one" };
  }
  return checkRefresh(current, checked.claims, topics);
}
