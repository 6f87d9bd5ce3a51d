import { DurableObject } from "cloudflare:workers";
import type { DemoUser, Signup } from "../api-shapes.ts";
import type { DemoEnv } from "../worker/env.ts";

/** A new user, the same one again (this visitor registered the address before), or an address another visitor holds. */
export type RegisterOutcome = { ok: true; user: DemoUser; created: boolean } | { ok: false; code: "email_taken" };

interface UserRow extends Record<string, SqlStorageValue> {
  user_id: string;
  visitor_id: string;
  name: string;
  email: string;
  correlation_id: string;
  created_at: number;
  registered_seq: number | null;
}

/**
 * The User Service's database: one row per email address, each recording the visitor (browser)
 * that registered it, so a double submit finds the user it stored, another visitor cannot take
 * the address, and every visitor sees only its own users. One instance: addresses are unique
 * across all visitors.
 */
export class UserStore extends DurableObject<DemoEnv> {
  constructor(ctx: DurableObjectState, env: DemoEnv) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS users (
        user_id TEXT PRIMARY KEY, visitor_id TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
        correlation_id TEXT NOT NULL, created_at INTEGER NOT NULL, registered_seq INTEGER);
      CREATE INDEX IF NOT EXISTS users_by_visitor ON users (visitor_id, created_at)`);
  }

  async register(visitorId: string, signup: Signup): Promise<RegisterOutcome> {
    const existing = this.row("email = ?", signup.email);
    if (existing) {
      return existing.visitor_id === visitorId
        ? { ok: true, user: toUser(existing), created: false }
        : { ok: false, code: "email_taken" };
    }
    const id = crypto.randomUUID();
    const userId = `u-${id.slice(0, 8)}${id.slice(9, 13)}`;
    this.ctx.storage.sql.exec(
      "INSERT INTO users (user_id, visitor_id, name, email, correlation_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      userId,
      visitorId,
      signup.name,
      signup.email,
      `signup-${crypto.randomUUID()}`,
      Date.now(),
    );
    return { ok: true, user: toUser(this.row("user_id = ?", userId) as UserRow), created: true };
  }

  /** Where the user's `UserRegistered` event sits in the users topic, once the log has stored it. */
  async recordRegistration(userId: string, seq: number): Promise<void> {
    this.ctx.storage.sql.exec("UPDATE users SET registered_seq = ? WHERE user_id = ?", seq, userId);
  }

  /** The visitor's users, newest first. */
  async usersOf(visitorId: string, limit = 50): Promise<DemoUser[]> {
    return this.ctx.storage.sql
      .exec<UserRow>(
        "SELECT * FROM users WHERE visitor_id = ? ORDER BY created_at DESC, user_id LIMIT ?",
        visitorId,
        limit,
      )
      .toArray()
      .map(toUser);
  }

  /** The user, if this visitor registered it: another visitor's user is as unknown as a missing one. */
  async userOf(visitorId: string, userId: string): Promise<DemoUser | null> {
    const row = this.row("user_id = ? AND visitor_id = ?", userId, visitorId);
    return row ? toUser(row) : null;
  }

  /** The visitor's newest user whose `UserRegistered` is stored, with its seq. */
  async latestRegistered(visitorId: string): Promise<{ user: DemoUser; seq: number } | null> {
    const row = this.ctx.storage.sql
      .exec<UserRow>(
        "SELECT * FROM users WHERE visitor_id = ? AND registered_seq IS NOT NULL ORDER BY created_at DESC, user_id LIMIT 1",
        visitorId,
      )
      .toArray()[0];
    return row ? { user: toUser(row), seq: row.registered_seq as number } : null;
  }

  /** Which visitor registered the user: the Notification Service keeps each visitor's state apart. */
  async visitorOf(userId: string): Promise<string | null> {
    return this.row("user_id = ?", userId)?.visitor_id ?? null;
  }

  private row(where: string, ...bindings: SqlStorageValue[]): UserRow | null {
    return this.ctx.storage.sql.exec<UserRow>(`SELECT * FROM users WHERE ${where}`, ...bindings).toArray()[0] ?? null;
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

/** The demo's one user database. */
export function userStore(env: DemoEnv) {
  return env.USER_STORE.get(env.USER_STORE.idFromName("users"));
}
