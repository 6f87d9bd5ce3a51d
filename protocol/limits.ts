/** Defaults for every limit; each can be changed through the Worker's vars (docs/configuration.md). */
export const DEFAULT_LIMITS = {
  maxEventBytes: 64 * 1024,
  maxBatchEvents: 100,
  maxBodyBytes: 1024 * 1024,
  historyDefaultLimit: 100,
  historyMaxLimit: 1000,
  dedupWindowSeconds: 24 * 60 * 60,
  retentionMaxAgeSeconds: 7 * 24 * 60 * 60,
  retentionMaxEvents: 1_000_000,
  /** Stored bytes of a topic's events: far below a Durable Object's storage limit. */
  retentionMaxBytes: 1024 * 1024 * 1024,
  replayPageSize: 500,
  /** Characters a live socket may have unacknowledged before the server stops sending to it. */
  liveMaxUnackedChars: 2 * 1024 * 1024,
  /** Sockets one client address, and one credential, may hold on one hub. */
  liveMaxSocketsPerClient: 1_000,
  liveMaxSocketsPerCredential: 1_000,
  /** A socket stopped that long without acknowledging anything is closed with 1013. */
  liveStallSeconds: 60,
  /**
   * Sockets one hub holds before the Worker picks another: at the measured cost of a copy (about 50 µs
   * of a hub's thread), 2,000 sockets take 10 events/s each within one thread (docs/architecture.md).
   */
  hubMaxSockets: 2_000,
  /** Hub objects the Worker picks among: 2,048,000 sockets at the default size. Unused hubs cost nothing. */
  hubPoolSize: 1_024,
  /** Hubs the Worker tries for one socket before it answers `overloaded` (1013): enough to reach the whole pool. */
  hubConnectAttempts: 11,
  /** Recent events a hub keeps per topic, so a resuming socket is served without asking the topic. */
  hubWindowEvents: 1_000,
  /** Topics one socket may follow at once. */
  hubMaxTopicsPerSocket: 100,
} as const;
