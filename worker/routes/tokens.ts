import type { Handler } from "hono";
import { tokenRevocations } from "../../durable-objects/token-revocations.ts";
import { topicDirectory } from "../../durable-objects/topic-directory.ts";
import {
  MAX_TOKEN_TTL_SECONDS,
  patternWithin,
  RevocationRequestSchema,
  type RevocationResponse,
  TokenRequestSchema,
  type TokenResponse,
} from "../../protocol/auth.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import { mintToken } from "../../runtime/tokens.ts";
import type { AppEnv } from "../app-env.ts";
import { scopeOf } from "../auth/access.ts";
import { parseKeys } from "../auth/keys.ts";
import { hubStub } from "../hub-connect.ts";
import { readJsonBody } from "../read-json-body.ts";
import { parseBody } from "../validate.ts";

/**
 * `POST /v1/tokens`: a backend key with `mint` (checked by the route policy) issues a short-lived
 * subscriber token for browsers, never wider than the key's own topics, and allowing `publish` only
 * when the key allows it.
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
  // A token may publish only where its minting key may: `publish` among the key's own operations.
  if (request.ops.includes("publish") && !principal.ops.includes("publish")) {
    throw new MeshError("forbidden", "this key cannot mint tokens that publish: it does not allow publish itself", {
      operation: "publish",
    });
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

/** Hubs told about a revocation at once. */
const FAN_OUT = 16;
const DIRECTORY_PAGE = 1000;

/**
 * `POST /v1/tokens/revocations`: refuses a token (by id) or every token of a subject from now
 * until the longest such a token can live, and closes their open sockets (4401) on every hub: hubs
 * hold every socket, one-topic and `/v1/ws` alike.
 * It acts across the deployment, so it takes an admin key for every topic.
 */
export const revokeTokens: Handler<AppEnv> = async (c) => {
  if (!scopeOf(c.get("principal"), "admin").all) {
    throw new MeshError("forbidden", "revoking tokens takes an admin key for every topic (*)", { operation: "admin" });
  }
  const request = parseBody(RevocationRequestSchema, await readJsonBody(c.req.raw));
  const [kind, value] =
    "tokenId" in request ? (["token", request.tokenId] as const) : (["subject", request.subject] as const);
  const until = Date.now() + MAX_TOKEN_TTL_SECONDS * 1000;
  await tokenRevocations(c.env).revoke(kind, value, until);
  const directory = topicDirectory(c.env);
  const disconnected = await disconnectAll(
    (after) => directory.listHubs(after, DIRECTORY_PAGE),
    (hub) => hubStub(c.env, hub).disconnect(kind, value),
  );
  const body: RevocationResponse = { kind, value, until: new Date(until).toISOString(), disconnected };
  return c.json(body);
};

/** Walks the directory's hubs a page at a time, `FAN_OUT` hubs at once; answers the sockets closed. */
async function disconnectAll(
  page: (after: string) => Promise<string[]>,
  disconnect: (name: string) => Promise<number>,
): Promise<number> {
  let disconnected = 0;
  for (let after = ""; ; ) {
    const names = await page(after);
    for (let i = 0; i < names.length; i += FAN_OUT) {
      const counts = await Promise.all(names.slice(i, i + FAN_OUT).map(disconnect));
      disconnected += counts.reduce((a, b) => a + b, 0);
    }
    if (names.length < DIRECTORY_PAGE) return disconnected;
    after = names[names.length - 1];
  }
}
