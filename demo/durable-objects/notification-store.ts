import { DurableObject } from "cloudflare:workers";
import type { FailureSwitch, OutboxEmail } from "../api-shapes.ts";
import type { DemoEnv } from "../worker/env.ts";

export interface WelcomeRequest {
  userId: string;
  name: string;
  to: string;
  causationId: string;
}

export type WelcomeResult = { ok: true; email: OutboxEmail; created: boolean };

interface OutboxRow extends Record<string, SqlStorageValue> {
  email_id: string;
  user_id: string;
  to_address: string;
  subject: string;
  body: string;
  causation_id: string;
  sent_at: number;
}

/**
 * The Notification Service's state for one visitor: the outbox of "sent" welcome emails (one per
 * causing event, so a redelivered message never sends twice), the visitor's failure switch, and
 * a count of failed attempts per event that keeps growing across queue retries and redrives.
 * One instance per visitor, so one visitor's emails and switch cannot reach another's.
 */
export class NotificationStore extends DurableObject<DemoEnv> {
  constructor(ctx: DurableObjectState, env: DemoEnv) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
        email_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, to_address TEXT NOT NULL, subject TEXT NOT NULL,
        body TEXT NOT NULL, causation_id TEXT NOT NULL UNIQUE, sent_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS failures (event_id TEXT PRIMARY KEY, attempts INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
  }

  async failureSwitch(): Promise<FailureSwitch> {
    const row = this.ctx.storage.sql
      .exec<{ value: string }>("SELECT value FROM settings WHERE key = 'failing_until'")
      .toArray()[0];
    if (!row) return { failing: false, until: null };
    const until = Number(row.value);
    if (until === 0) return { failing: true, until: null };
    return until > Date.now()
      ? { failing: true, until: new Date(until).toISOString() }
      : { failing: false, until: null };
  }

  /** Fails every attempt from now on, until switched off or for `forSeconds`. */
  async setFailureSwitch(failing: boolean, forSeconds?: number): Promise<FailureSwitch> {
    if (failing) {
      const until = forSeconds === undefined ? 0 : Date.now() + forSeconds * 1000;
      this.ctx.storage.sql.exec(
        "INSERT INTO settings (key, value) VALUES ('failing_until', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        String(until),
      );
    } else {
      this.ctx.storage.sql.exec("DELETE FROM settings WHERE key = 'failing_until'");
    }
    return this.failureSwitch();
  }

  /** Counts one more failed attempt at handling `eventId`; answers the attempt's number. */
  async recordFailure(eventId: string): Promise<number> {
    return this.ctx.storage.sql
      .exec<{ attempts: number }>(
        "INSERT INTO failures (event_id, attempts) VALUES (?, 1) ON CONFLICT (event_id) DO UPDATE SET attempts = attempts + 1 RETURNING attempts",
        eventId,
      )
      .one().attempts;
  }

  /** "Sends" the welcome email caused by an event, once: a repeat answers the email already sent. */
  async sendWelcome(request: WelcomeRequest): Promise<WelcomeResult> {
    const existing = this.byCausation(request.causationId);
    if (existing) return { ok: true, email: existing, created: false };
    this.ctx.storage.sql.exec(
      "INSERT INTO outbox (email_id, user_id, to_address, subject, body, causation_id, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      `email-${crypto.randomUUID()}`,
      request.userId,
      request.to,
      `Welcome, ${request.name}!`,
      `Hi ${request.name}, thanks for signing up. Your account ${request.userId} is ready.`,
      request.causationId,
      Date.now(),
    );
    return { ok: true, email: this.byCausation(request.causationId) as OutboxEmail, created: true };
  }

  /** Sent emails, newest first, optionally only one user's. */
  async outbox(userId?: string, limit = 100): Promise<OutboxEmail[]> {
    const rows = userId
      ? this.ctx.storage.sql.exec<OutboxRow>(
          "SELECT * FROM outbox WHERE user_id = ? ORDER BY sent_at DESC LIMIT ?",
          userId,
          limit,
        )
      : this.ctx.storage.sql.exec<OutboxRow>("SELECT * FROM outbox ORDER BY sent_at DESC LIMIT ?", limit);
    return rows.toArray().map(toEmail);
  }

  private byCausation(causationId: string): OutboxEmail | null {
    const row = this.ctx.storage.sql
      .exec<OutboxRow>("SELECT * FROM outbox WHERE causation_id = ?", causationId)
      .toArray()[0];
    return row ? toEmail(row) : null;
  }
}

function toEmail(row: OutboxRow): OutboxEmail {
  return {
    emailId: row.email_id,
    userId: row.user_id,
    to: row.to_address,
    subject: row.subject,
    body: row.body,
    causationId: row.causation_id,
    sentAt: new Date(row.sent_at).toISOString(),
  };
}

/** The Notification Service's state for one visitor. */
export function notificationStore(env: DemoEnv, visitorId: string) {
  return env.NOTIFICATION_STORE.get(env.NOTIFICATION_STORE.idFromName(`visitor:${visitorId}`));
}
