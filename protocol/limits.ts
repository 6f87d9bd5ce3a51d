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
  replayPageSize: 500,
  /** Characters a live socket may have unacknowledged before the server stops sending to it. */
  liveMaxUnackedChars: 2 * 1024 * 1024,
  /** A socket stopped that long without acknowledging anything is closed with 1013. */
  liveStallSeconds: 60,
} as const;
