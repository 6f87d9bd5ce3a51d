import { decode, sign, verify } from "hono/jwt";
import * as v from "valibot";
import type { KeyConfig, TokenClaims, TokenRequest, TokenSecret } from "../protocol/auth.ts";
import { TokenClaimsSchema, TokenSecretsSchema } from "../protocol/auth.ts";

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; code: "unauthorized" | "token_expired"; message: string };

/** The id a single, unlisted secret signs with. */
const SINGLE_SECRET_ID = "default";

/** The last MESH_TOKEN_SECRET read, parsed: the secret rarely changes per isolate. */
let cached: { raw: string; secrets: TokenSecret[] } | null = null;

/**
 * Reads MESH_TOKEN_SECRET: one secret, or a JSON list `[{ "id", "secret" }, …]` whose first entry
 * signs and every entry verifies (rotation: docs/security.md). A broken list is a deployment
 * error, never "no tokens".
 */
export function parseTokenSecrets(raw: string): TokenSecret[] {
  if (cached?.raw === raw) return cached.secrets;
  let secrets: TokenSecret[];
  if (!raw.trimStart().startsWith("[")) {
    secrets = [{ id: SINGLE_SECRET_ID, secret: raw }];
  } else {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error("MESH_TOKEN_SECRET starts with [ but is not a valid JSON list");
    }
    const result = v.safeParse(TokenSecretsSchema, value);
    if (!result.success) throw new Error(`MESH_TOKEN_SECRET is invalid: ${result.issues[0].message}`);
    secrets = result.output;
  }
  cached = { raw, secrets };
  return secrets;
}

const toBase64Url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

/**
 * Mints a subscriber token (JWT, HS256) for a key allowed to mint, signed by the newest secret,
 * whose id the token's header carries (`kid`), so verification needs no guessing.
 */
export async function mintToken(
  request: TokenRequest,
  key: KeyConfig,
  secrets: string,
  now = Date.now(),
): Promise<{ token: string; claims: TokenClaims }> {
  const [signer] = parseTokenSecrets(secrets);
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
  const jwk = { kty: "oct", k: toBase64Url(signer.secret), alg: "HS256", kid: signer.id };
  return { token: await sign({ ...claims }, jwk, "HS256"), claims };
}

/**
 * Checks a subscriber token with the secret its header names (a token without one, from before
 * rotation existed, with each listed secret). The signature is verified before the expiry, so a
 * forged token is "unauthorized" rather than "expired"; only HS256 is accepted (no `alg: none`, no
 * algorithm swap).
 */
export async function checkToken(token: string, secrets: string, now = Date.now()): Promise<TokenCheck> {
  const invalid = {
    ok: false,
    code: "unauthorized",
    message: "the token is malformed or its signature is invalid",
  } as const;
  let kid: unknown;
  try {
    kid = decode(token).header.kid;
  } catch {
    return invalid;
  }
  const listed = parseTokenSecrets(secrets);
  const candidates = kid === undefined ? listed : listed.filter((s) => s.id === kid);
  if (candidates.length === 0) {
    return {
      ok: false,
      code: "unauthorized",
      message: "the token was signed by a secret this deployment no longer has",
    };
  }
  let payload: unknown = null;
  for (const { secret } of candidates) {
    try {
      payload = await verify(token, secret, { alg: "HS256", exp: false, iat: false, nbf: false });
      break;
    } catch {
      // Not this secret.
    }
  }
  if (payload === null) return invalid;
  const parsed = v.safeParse(TokenClaimsSchema, payload);
  if (!parsed.success) return { ok: false, code: "unauthorized", message: "the token's claims are invalid" };
  if (parsed.output.exp * 1000 <= now) {
    return { ok: false, code: "token_expired", message: "the token has expired: fetch a fresh one" };
  }
  return { ok: true, claims: parsed.output };
}
