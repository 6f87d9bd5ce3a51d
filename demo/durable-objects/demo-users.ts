import { DurableObject } from "cloudflare:workers";
import type { DemoUser, Signup } from "../protocol/demo.ts";
import type { Env } from "../runtime/env.ts";

export type RegisterResult = { ok: true; user: DemoUser; created: boolean };

interface UserRow extends Record<string, SqlStorageValue> {
  user_id: string;
  name: string;
  email: string;
  correlation_id: string;
  created_at: number;
}

/**
 * The demo User Service's database: one row per email address, so a double submit (or a retried
 * request) finds the user it already stored instead of creating a second one.
 */
export class DemoUsers extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS users (
      user_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
      correlation_id TEXT NOT NULL, created_at INTEGER NOT NULL)`);
  }

  async register(signup: Signup): Promise<RegisterResult> {
    const existing = this.byEmail(signup.email);
    if (existing) return { ok: true, user: existing, created: false };
    const id = crypto.randomUUID();
    this.ctx.storage.sql.exec(
      "INSERT INTO users (user_id, name, email, correlation_id, created_at) VALUES (?, ?, ?, ?, ?)",
      `u-${id.slice(0, 8)}${id.slice(9, 13)}`,
      signup.name,
      signup.email,
      `signup-${crypto.randomUUID()}`,
      Date.now(),
    );
    return { ok: true, user: this.byEmail(signup.email) as DemoUser, created: true };
  }

  /** Newest first. */
  async list(limit = 100): Promise<DemoUser[]> {
    return this.ctx.storage.sql
      .exec<UserRow>("SELECT * FROM users ORDER BY created_at DESC, user_id LIMIT ?", limit)
      .toArray()
      .map(toUser);
  }

  async exists(userId: string): Promise<boolean> {
    return this.ctx.storage.sql.exec("SELECT 1 FROM users WHERE user_id = ?", userId).toArray().length > 0;
  }

  private byEmail(email: string): DemoUser | null {
    const row = this.ctx.storage.sql.exec<UserRow>("SELECT * FROM users WHERE email = ?", email).toArray()[0];
    return row ? toUser(row) : null;
  }
}

function toUser(row: UserRow): DemoUser {
  return {
    userId: row.user_id,
    name: row.name,
    email: row.email,
    correlationId: row.correlation_id,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** The single user database of the demo. */
export function demoUsers(env: Env) {
  return env.DEMO_USERS.get(env.DEMO_USERS.idFromName("users"));
}
