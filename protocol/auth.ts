import * as v from "valibot";

/**
 * Operations a credential can allow. Keys (backends) may hold any of them; subscriber tokens
 * (browsers) `subscribe`, `history` and `publish` (minted only by a key that may publish there);
 * a topic listed in PUBLIC_TOPICS may be read without a credential, never written.
 */
export const KEY_OPERATIONS = ["publish", "history", "subscribe", "mint", "admin"] as const;
export const TOKEN_OPERATIONS = ["subscribe", "history", "publish"] as const;
export const PUBLIC_OPERATIONS = ["subscribe", "history"] as const;
export type Operation = (typeof KEY_OPERATIONS)[number];

/**
 * A topic pattern: a topic name in which `*` stands for any run of characters
 * (`notifications.*`, `*` for every topic).
 */
export const TopicPatternSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9*][A-Za-z0-9._:*-]{0,127}$/, "a topic pattern is a topic name that may contain *"),
);

/** One publisher key, as configured in the MESH_KEYS secret (a JSON array of these). */
export const KeyConfigSchema = v.object({
  id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, "key id: 1-64 of A-Z a-z 0-9 . _ -")),
  secret: v.pipe(v.string(), v.minLength(24, "a key secret is at least 24 characters")),
  topics: v.pipe(v.array(TopicPatternSchema), v.minLength(1, "a key names at least one topic pattern")),
  ops: v.pipe(v.array(v.picklist(KEY_OPERATIONS)), v.minLength(1, "a key allows at least one operation")),
});
export const KeysConfigSchema = v.array(KeyConfigSchema);
export type KeyConfig = v.InferOutput<typeof KeyConfigSchema>;

/**
 * The token signing secrets (MESH_TOKEN_SECRET): one secret, or a JSON list of `{ id, secret }`
 * for rotation. The first signs new tokens; every listed one verifies the tokens it signed.
 */
export const TokenSecretsSchema = v.pipe(
  v.array(
    v.object({
      id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, "a token secret id is 1-64 of A-Z a-z 0-9 . _ -")),
      secret: v.pipe(v.string(), v.minLength(32, "a token secret is at least 32 characters")),
    }),
  ),
  v.minLength(1, "list at least one token secret"),
  v.check((list) => new Set(list.map((s) => s.id)).size === list.length, "token secret ids must be unique"),
);
export type TokenSecret = v.InferOutput<typeof TokenSecretsSchema>[number];

/** A subscriber token lives at most this long (`ttlSeconds`), so a revocation need not outlive it. */
export const MAX_TOKEN_TTL_SECONDS = 24 * 60 * 60;

/** Body of `POST /v1/tokens`. */
export const TokenRequestSchema = v.object({
  topics: v.pipe(
    v.array(TopicPatternSchema),
    v.minLength(1, "topics names at least one topic or pattern"),
    v.maxLength(50),
  ),
  ops: v.optional(
    v.pipe(v.array(v.picklist(TOKEN_OPERATIONS, 'ops may hold "subscribe", "history" and "publish"')), v.minLength(1)),
    ["subscribe", "history"],
  ),
  ttlSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10), v.maxValue(MAX_TOKEN_TTL_SECONDS)), 300),
  subject: v.optional(v.pipe(v.string(), v.maxLength(200))),
});
export type TokenRequest = v.InferOutput<typeof TokenRequestSchema>;

/** Body of `POST /v1/tokens/revocations`: one token by its id, or every token of a subject. */
export const RevocationRequestSchema = v.union(
  [
    v.strictObject({ tokenId: v.pipe(v.string(), v.nonEmpty("tokenId must not be empty"), v.maxLength(200)) }),
    v.strictObject({ subject: v.pipe(v.string(), v.nonEmpty("subject must not be empty"), v.maxLength(200)) }),
  ],
  "name either tokenId or subject",
);
export type RevocationRequest = v.InferOutput<typeof RevocationRequestSchema>;

/** Answer of a revocation: what is refused until when, and how many open sockets were closed. */
export const RevocationResponseSchema = v.object({
  kind: v.picklist(["token", "subject"]),
  value: v.string(),
  until: v.pipe(v.string(), v.isoTimestamp()),
  disconnected: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export type RevocationResponse = v.InferOutput<typeof RevocationResponseSchema>;

/** Claims of a subscriber token (JWT, HS256). */
export const TokenClaimsSchema = v.object({
  jti: v.string(),
  iat: v.number(),
  exp: v.number(),
  sub: v.optional(v.string()),
  /** The key that minted it, for audit. */
  kid: v.string(),
  topics: v.array(TopicPatternSchema),
  ops: v.array(v.picklist(TOKEN_OPERATIONS)),
});
export type TokenClaims = v.InferOutput<typeof TokenClaimsSchema>;

/** Answer of `POST /v1/tokens`. */
export const TokenResponseSchema = v.object({
  /** The JWT (HS256) to present as a bearer credential or as `?token=` on a WebSocket. */
  token: v.string(),
  /** The token's id (`jti`), for audit. */
  id: v.string(),
  expiresAt: v.string(),
  topics: v.array(TopicPatternSchema),
  ops: v.array(v.picklist(TOKEN_OPERATIONS)),
});
export type TokenResponse = v.InferOutput<typeof TokenResponseSchema>;

/** True when `topic` is matched by `pattern` (`*` = any run of characters). */
export function topicMatches(pattern: string, topic: string): boolean {
  if (!pattern.includes("*")) return pattern === topic;
  const parts = pattern.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`).test(topic);
}

/**
 * True when every topic `inner` can match is also matched by `outer`: a key may only mint tokens
 * inside its own scope. Matching `inner` as literal text is enough: a `*` in `inner` is not a
 * topic character, so only a wildcard of `outer` can take it, and that wildcard takes any text.
 */
export function patternWithin(inner: string, outer: string): boolean {
  return topicMatches(outer, inner);
}
