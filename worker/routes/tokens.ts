import type { Handler } from "hono";
import { patternWithin, TokenRequestSchema, type TokenResponse } from "../../protocol/auth.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import type { AppEnv } from "../app-env.ts";
import { parseKeys } from "../auth/keys.ts";
import { mintToken } from "../auth/tokens.ts";
import { readJsonBody } from "../read-json-body.ts";
import { parseBody } from "../validate.ts";

/**
 * `POST /v1/tokens`: a backend key with `mint` (checked by the route policy) issues a short-lived
 * subscriber token for browsers, never wider than the key's own topics.
 */
export const mintSubscriberToken: Handler<AppEnv> = async (c) => {
  const secret = c.env.MESH_TOKEN_SECRET;
  if (!secret) throw new MeshError("auth_not_configured", "tokens are not enabled (MESH_TOKEN_SECRET is unset)");
  const request = parseBody(TokenRequestSchema, await readJsonBody(c.req.raw));
  const principal = c.get("principal");
  const outside = request.topics.find((t) => !principal.topics.some((own) => patternWithin(t, own)));
  if (outside !== undefined) {
    throw new MeshError("forbidden", `this key cannot mint tokens for "${outside}"`, { topic: outside });
  }
  const key = parseKeys(c.env.MESH_KEYS).find((k) => k.id === principal.id);
  if (!key) throw new MeshError("forbidden", "only publisher keys can mint tokens");
  const { token, claims } = await mintToken(request, key, secret);
  const body: TokenResponse = {
    token,
    id: claims.jti,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    topics: claims.topics,
    ops: claims.ops,
  };
  return c.json(body, 201);
};
