/**
 * Secrets the mesh reads. They never appear in wrangler.toml, so `wrangler types` cannot see them:
 * `.dev.vars` holds them locally, `wrangler secret put` on Cloudflare.
 */
export interface MeshSecrets {
  /** JSON array of publisher keys (docs/security.md). */
  MESH_KEYS?: string;
  /** HMAC secret that signs subscriber tokens. */
  MESH_TOKEN_SECRET?: string;
}

/**
 * The Worker's environment: the bindings and vars `wrangler types` declares from the app's
 * wrangler.toml (`Cloudflare.Env`: the mesh's own in this repository, the app's in an app that
 * uses the mesh), plus the secrets.
 */
export type Env = Cloudflare.Env & MeshSecrets;
