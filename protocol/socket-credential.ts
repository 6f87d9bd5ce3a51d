import * as v from "valibot";
import { patternWithin, TOKEN_OPERATIONS, type TokenClaims, TopicPatternSchema, topicMatches } from "./auth.ts";
import type { ErrorCode } from "./error-codes.ts";

/**
 * What a socket opened with a subscriber token keeps of it, so the token can be enforced while the
 * socket stays open: its id and subject (for revocation), its scope (a refresh may not widen it)
 * and its expiry. The Worker hands it to the topic's object with the upgrade.
 */
export const SocketCredentialSchema = v.object({
  tokenId: v.string(),
  subject: v.optional(v.string()),
  topics: v.array(TopicPatternSchema),
  ops: v.array(v.picklist(TOKEN_OPERATIONS)),
  /** Epoch milliseconds. */
  expiresAt: v.number(),
});
export type SocketCredential = v.InferOutput<typeof SocketCredentialSchema>;

export function socketCredential(claims: TokenClaims): SocketCredential {
  return {
    tokenId: claims.jti,
    ...(claims.sub === undefined ? {} : { subject: claims.sub }),
    topics: claims.topics,
    ops: claims.ops,
    expiresAt: claims.exp * 1000,
  };
}

export type RefreshCheck = { ok: true; credential: SocketCredential } | { ok: false; code: ErrorCode; message: string };

/**
 * A fresh token may replace a socket's token when it still allows `subscribe` on every topic the
 * socket follows, is for the same subject, and is no wider: each of its topic patterns inside one
 * of the old token's, its operations among the old ones.
 */
export function checkRefresh(current: SocketCredential, next: TokenClaims, topics: readonly string[]): RefreshCheck {
  const refuse = (message: string): RefreshCheck => ({ ok: false, code: "forbidden", message });
  const outside = next.ops.includes("subscribe")
    ? topics.find((topic) => !next.topics.some((pattern) => topicMatches(pattern, topic)))
    : topics[0];
  if (outside !== undefined) return refuse(`the new token does not allow subscribe on topic "${outside}"`);
  if (current.subject !== undefined && next.sub !== current.subject) {
    return refuse("the new token is for another subject");
  }
  const wider = next.topics.find((pattern) => !current.topics.some((own) => patternWithin(pattern, own)));
  if (wider !== undefined) return refuse(`the new token reaches "${wider}", beyond the token it replaces`);
  if (next.ops.some((op) => !current.ops.includes(op))) return refuse("the new token allows more operations");
  return { ok: true, credential: socketCredential(next) };
}
