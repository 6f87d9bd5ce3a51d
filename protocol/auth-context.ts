import type { JsonObject } from "./json.ts";

/**
 * The CloudEvents authcontext extension: who published an event. The mesh sets `authtype` and
 * `authid` on every event published with a credential, from that credential, so a reader can
 * trust them; `authclaims` is part of the extension too but the mesh never sets it.
 */
export const AUTH_CONTEXT_ATTRIBUTES = ["authtype", "authid", "authclaims"] as const;

/**
 * The extension's `authtype` values the mesh uses: `app_user` for an end user of the app (a
 * subscriber token, minted by the app's backend for one of its users), `api_key` for a publisher
 * key (the spec's type for a principal that is an API key; its `authid` is the key's label).
 */
export type AuthType = "app_user" | "api_key";

export interface AuthContext {
  authtype: AuthType;
  /** A token's subject (its id when it has none), or a key's id. Never a secret. */
  authid: string;
}

/** The authcontext of a subscriber token: its subject, or its id when it was minted without one. */
export function tokenAuthContext(token: { tokenId: string; subject?: string }): AuthContext {
  return { authtype: "app_user", authid: token.subject ?? token.tokenId };
}

/** The authcontext of a publisher key: its id (the label in MESH_KEYS, never its secret). */
export function keyAuthContext(keyId: string): AuthContext {
  return { authtype: "api_key", authid: keyId };
}

/**
 * True for the attributes only the mesh may set: a publisher that sends one is refused (see
 * protocol/envelope.ts), so a stored `authid` was always set by the mesh.
 */
export function isAuthContextAttribute(name: string): boolean {
  return (AUTH_CONTEXT_ATTRIBUTES as readonly string[]).includes(name);
}

/** The checked event with the publisher's authcontext added (a new object; the input is kept). */
export function withAuthContext(event: JsonObject, context: AuthContext): JsonObject {
  return { ...event, authtype: context.authtype, authid: context.authid };
}
