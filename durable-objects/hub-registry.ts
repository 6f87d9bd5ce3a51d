/**
 * The hubs a topic pushes to, in the topic object's SQLite, so a restarted topic still knows whom
 * to push to. Written on attach and detach only: where each hub stands is kept in memory
 * (hub-fanout.ts), so a published event costs no write here.
 */
export class HubRegistry {
  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS hubs (hub TEXT PRIMARY KEY, attached_at INTEGER NOT NULL)");
  }

  /** Every attached hub, by name. */
  list(): string[] {
    return this.sql
      .exec<{ hub: string }>("SELECT hub FROM hubs ORDER BY hub")
      .toArray()
      .map((row) => row.hub);
  }

  attach(hub: string, now: number): void {
    this.sql.exec(
      "INSERT INTO hubs (hub, attached_at) VALUES (?, ?) ON CONFLICT (hub) DO UPDATE SET attached_at = excluded.attached_at",
      hub,
      now,
    );
  }

  remove(hub: string): void {
    this.sql.exec("DELETE FROM hubs WHERE hub = ?", hub);
  }
}
