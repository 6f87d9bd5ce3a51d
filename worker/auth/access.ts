import type { Context, MiddlewareHandler } from "hono";
import { tokenRevocations } from "../../durable-objects/token-revocations.ts";
import { type Operation, PUBLIC_OPERATIONS, topicMatches } from "../../protocol/auth.ts";
import { socketCredential } from "../../protocol/socket-credential.ts";
import type { Env } from "../../runtime/env.ts";
import { MeshError } from "../../runtime/mesh-error.ts";
import { checkToken } from "../../runtime/tokens.ts";
import type { AppEnv } from "../app-env.ts";
import { checkTopic } from "../topic-param.ts";
import { findKey, parseKeys } from "./keys.ts";
import type { Principal } from "./principal.ts";

function publicPatterns(env: Env): string[] {
  return (env.PUBLIC_TOPICS ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** A subscriber token is a JWT: three base64url parts. A key is anything else. */
const TOKEN_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * The bearer credential: the Authorization header, or `?token=` where browsers cannot set headers
 * (WebSocket). Only subscriber tokens may travel in a URL, which proxies, logs and browser
 * histories keep: a key there is refused on every route, whether or not the route reads it.
 */
function presentedCredential(c: Context<AppEnv>, allowQuery: boolean): string | null {
  const fromQuery = new URL(c.req.url).searchParams.get("token");
  if (fromQuery !== null && !TOKEN_SHAPE.test(fromQuery)) {
    throw new MeshError(
      "key_in_url",
      "a key must never travel in a URL: send it as Authorization: Bearer <key>; only subscriber tokens may be given as ?token=",
    );
  }
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new MeshError("unauthorized", "the Authorization header must be: Bearer <key or token>");
    return match[1];
  }
  return allowQuery ? fromQuery : null;
}

/** Resolves the caller, or throws 401/503. Nothing here calls a Durable Object. */
async function authenticate(c: Context<AppEnv>, allowQuery: boolean): Promise<Principal | null> {
  const credential = presentedCredential(c, allowQuery);
  if (credential === null) return null;
  const keys = parseKeys(c.env.MESH_KEYS);
  if (keys.length === 0 && !c.env.MESH_TOKEN_SECRET) {
    throw new MeshError("auth_not_configured", "no keys are configured on this deployment (MESH_KEYS)");
  }
  if (TOKEN_SHAPE.test(credential)) {
    if (!c.env.MESH_TOKEN_SECRET)
      throw new MeshError("unauthorized", "tokens are not enabled (MESH_TOKEN_SECRET is unset)");
    const checked = await checkToken(credential, c.env.MESH_TOKEN_SECRET);
    if (!checked.ok) throw new MeshError(checked.code, checked.message);
    const { claims } = checked;
    if (await tokenRevocations(c.env).isRevoked(claims.jti, claims.sub)) {
      throw new MeshError("token_revoked", "this token was revoked: get a new one");
    }
    return {
      kind: "token",
      id: claims.jti,
      topics: claims.topics,
      ops: claims.ops,
      credential: socketCredential(claims),
    };
  }
  const key = await findKey(keys, credential);
  if (!key) throw new MeshError("unauthorized", "the key is not valid");
  return { kind: "key", id: key.id, topics: key.topics, ops: key.ops };
}

/** The topics a credential may do `op` on, for routes that act across the deployment. */
export interface TopicScope {
  covers(topic: string): boolean;
  /** True when it covers every topic (a `*` pattern). */
  all: boolean;
}

export function scopeOf(principal: Principal, op: Operation): TopicScope {
  return {
    covers: (topic) => allows(principal, op, topic),
    all: principal.ops.includes(op) && principal.topics.includes("*"),
  };
}

/** True when the principal may do `op`, on `topic` when the operation is topic-scoped. */
export function allows(principal: Principal, op: Operation, topic?: string): boolean {
  if (!principal.ops.includes(op)) return false;
  return topic === undefined || principal.topics.some((pattern) => topicMatches(pattern, topic));
}

/**
 * Guards a route: resolves the caller and checks the operation (on the route's `:topic` when it
 * has one) before any Durable Object is called. Subscribe and history may be public per
 * PUBLIC_TOPICS; everything else needs a credential.
 */
export function requireAccess(op: Operation, options: { topicScoped?: boolean; queryToken?: boolean } = {}) {
  const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
    const topic = options.topicScoped ? checkTopic(c.req.param("topic")) : undefined;
    const principal = await authenticate(c, options.queryToken ?? false);
    if (principal === null) {
      const isPublic =
        topic !== undefined &&
        (PUBLIC_OPERATIONS as readonly string[]).includes(op) &&
        publicPatterns(c.env).some((pattern) => topicMatches(pattern, topic));
      if (!isPublic) {
        if (parseKeys(c.env.MESH_KEYS).length === 0 && !c.env.MESH_TOKEN_SECRET) {
          throw new MeshError("auth_not_configured", "no keys are configured on this deployment (MESH_KEYS)");
        }
        throw new MeshError("unauthorized", "a credential is required: send Authorization: Bearer <key or token>");
      }
      c.set("principal", { kind: "public", id: "public", topics: [topic], ops: PUBLIC_OPERATIONS });
      return next();
    }
    if (!allows(principal, op, topic)) {
      throw new MeshError("forbidden", `this credential does not allow ${op}${topic ? ` on topic "${topic}"` : ""}`, {
        operation: op,
        ...(topic ? { topic } : {}),
      });
    }
    c.set("principal", principal);
    return next();
  };
  return handler;
}
