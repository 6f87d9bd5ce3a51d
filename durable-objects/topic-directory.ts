import { DurableObject } from "cloudflare:workers";
import type { Env } from "../runtime/env.ts";

/**
 * The list of topics that exist, for listing APIs and the console, and of the hubs that hold
 * sockets, so a revoked token reaches every hub. A topic or hub registers itself once (the first
 * time its Durable Object is used), so the hot paths pay for it only once.
 */
export class TopicDirectory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS hubs (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL);`);
  }

  async register(topic: string): Promise<void> {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO topics (name, created_at) VALUES (?, ?)", topic, Date.now());
  }

  /** Topic names in name order, a page at a time. */
  async list(after = "", limit = 1000): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM topics WHERE name > ? ORDER BY name LIMIT ?", after, limit)
      .toArray()
      .map((r) => r.name);
  }

  async registerHub(name: string): Promise<void> {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO hubs (name, created_at) VALUES (?, ?)", name, Date.now());
  }

  /** Hub names in name order, a page at a time. */
  async listHubs(after = "", limit = 1000): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM hubs WHERE name > ? ORDER BY name LIMIT ?", after, limit)
      .toArray()
      .map((r) => r.name);
  }
}

/** The single directory instance. */
export function topicDirectory(env: Env) {
  return env.TOPIC_DIRECTORY.get(env.TOPIC_DIRECTORY.idFromName("directory"));
}
