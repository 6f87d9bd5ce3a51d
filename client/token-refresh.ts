/**
 * When a socket's subscriber token is refreshed in band. A token is a JWT: its `exp` is read
 * (not checked: the server does that) to refresh it a while before it runs out.
 */

/** The expiry of a JWT in epoch milliseconds; undefined for a key or anything that is not a JWT with `exp`. */
export function tokenExpiresAt(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined || token.split(".").length !== 3) return undefined;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Refresh a fifth of the remaining life early, at least 1 s and at most 60 s before expiry. */
export function refreshDelayMs(expiresAt: number, now: number): number {
  const remaining = expiresAt - now;
  const lead = Math.min(60_000, Math.max(1_000, remaining / 5));
  return Math.max(0, remaining - lead);
}
