import { DurableObject } from "cloudflare:workers";
import type { Env } from "../runtime/env.ts";

export type RevocationKind = "token" | "subject";

/**
 * Revoked subscriber tokens, by token id or by subject, each until the longest a token it covers
 * can live (one instance per deployment). The Worker refuses a revoked token on every request, and
 * a topic's object on an in-band refresh. Pruned by its alarm once they expire.
 */
export class TokenRevocations extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS revocations (
      kind TEXT NOT NULL, value TEXT NOT NULL, until INTEGER NOT NULL, PRIMARY KEY (kind, value))`);
  }

  async revoke(kind: RevocationKind, value: string, until: number): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO revocations (kind, value, until) VALUES (?, ?, ?)
       ON CONFLICT (kind, value) DO UPDATE SET until = MAX(until, excluded.until)`,
      kind,
      value,
      until,
    );
    await this.armPrune();
  }

  /** True when the token, or its subject, is revoked now. */
  async isRevoked(tokenId: string, subject: string | undefined, now = Date.now()): Promise<boolean> {
    return (
      this.ctx.storage.sql
        .exec(
          `SELECT 1 FROM revocations WHERE until > ? AND ((kind = 'token' AND value = ?) OR (kind = 'subject' AND value = ?))
           LIMIT 1`,
          now,
          tokenId,
          // No subject: NULL equals nothing, so only the token id can match.
          subject ?? null,
        )
        .toArray().length > 0
    );
  }

  override async alarm(): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM revocations WHERE until <= ?", Date.now());
    await this.armPrune();
  }

  private async armPrune(): Promise<void> {
    const next = this.ctx.storage.sql.exec<{ at: number | null }>("SELECT MIN(until) AS at FROM revocations").one().at;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }
}

/** The deployment's revocations. */
export function tokenRevocations(env: Env) {
  return env.TOKEN_REVOCATIONS.get(env.TOKEN_REVOCATIONS.idFromName("revocations"));
}
