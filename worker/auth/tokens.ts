import { sign, verify } from "hono/jwt";
import * as v from "valibot";
import type { KeyConfig, TokenClaims, TokenRequest } from "../../protocol/auth.ts";
import { TokenClaimsSchema } from "../../protocol/auth.ts";

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; code: "unauthorized" | "token_expired"; message: string };

/** Mints a subscriber token (JWT, HS256) for a key allowed to mint. */
export async function mintToken(
  request: TokenRequest,
  key: KeyConfig,
  secret: string,
  now = Date.now(),
): Promise<{ token: string; claims: TokenClaims }> {
  const iat = Math.floor(now / 1000);
  const claims: TokenClaims = {
    jti: crypto.randomUUID(),
    iat,
    exp: iat + request.ttlSeconds,
    kid: key.id,
    topics: request.topics,
    ops: request.ops,
    ...(request.subject ? { sub: request.subject } : {}),
  };
  return { token: await sign({ ...claims }, secret, "HS256"), claims };
}

/**
 * Checks a subscriber token. The signature is verified before the expiry, so a forged token is
 * "unauthorized" rather than "expired"; only HS256 is accepted (no `alg: none`, no algorithm swap).
 */
export async function checkToken(token: string, secret: string, now = Date.now()): Promise<TokenCheck> {
  let payload: unknown;
  try {
    payload = await verify(token, secret, { alg: "HS256", exp: false, iat: false, nbf: false });
  } catch {
    return { ok: false, code: "unauthorized", message: "the token is malformed or its signature is invalid" };
  }
  const parsed = v.safeParse(TokenClaimsSchema, payload);
  if (!parsed.success) return { ok: false, code: "unauthorized", message: "the token's claims are invalid" };
  if (parsed.output.exp * 1000 <= now) {
    return { ok: false, code: "token_expired", message: "the token has expired: fetch a fresh one" };
  }
  return { ok: true, claims: parsed.output };
}
