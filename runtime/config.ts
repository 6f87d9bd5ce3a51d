import { DEFAULT_LIMITS } from "../protocol/limits.ts";

/** The deployment's settings, read from vars with defaults; shared by the Worker and the DOs. */
export interface MeshConfig {
  maxEventBytes: number;
  maxBatchEvents: number;
  maxBodyBytes: number;
  dedupWindowSeconds: number;
  retentionMaxAgeSeconds: number;
  retentionMaxEvents: number;
  retentionMaxBytes: number;
  /** Keep events until every durable subscription has passed them (within the byte limit). */
  retentionProtectSubscriptions: boolean;
  unknownEventTypes: "accept" | "reject";
  replayPageSize: number;
  liveMaxUnackedChars: number;
  liveMaxSocketsPerClient: number;
  liveMaxSocketsPerCredential: number;
  liveStallSeconds: number;
  /** Sockets one hub holds; past it the Worker tries another hub. */
  hubMaxSockets: number;
  /** Hub objects the Worker picks among (`hub-0` … `hub-<n-1>`). */
  hubPoolSize: number;
  /** Hubs tried for one socket before it is refused with `overloaded`. */
  hubConnectAttempts: number;
  /** Recent events a hub keeps per topic for resuming sockets. */
  hubWindowEvents: number;
  /** Topics one socket may follow at once. */
  hubMaxTopicsPerSocket: number;
}

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`config ${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** The vars that configure the mesh (wrangler.toml [vars]); every one is optional. */
export type ConfigVars = Partial<
  Record<
    | "MAX_EVENT_BYTES"
    | "MAX_BATCH_EVENTS"
    | "MAX_BODY_BYTES"
    | "DEDUP_WINDOW_SECONDS"
    | "RETENTION_MAX_AGE_SECONDS"
    | "RETENTION_MAX_EVENTS"
    | "RETENTION_MAX_BYTES"
    | "RETENTION_PROTECT_SUBSCRIPTIONS"
    | "UNKNOWN_EVENT_TYPES"
    | "REPLAY_PAGE_SIZE"
    | "LIVE_MAX_UNACKED_CHARS"
    | "LIVE_MAX_SOCKETS_PER_CLIENT"
    | "LIVE_MAX_SOCKETS_PER_CREDENTIAL"
    | "LIVE_STALL_SECONDS"
    | "HUB_MAX_SOCKETS"
    | "HUB_POOL_SIZE"
    | "HUB_CONNECT_ATTEMPTS"
    | "HUB_WINDOW_EVENTS"
    | "HUB_MAX_TOPICS_PER_SOCKET",
    string
  >
>;

/** Settings already read, per env object: the publish path asks for them on every request. */
const readConfigs = new WeakMap<ConfigVars, Readonly<MeshConfig>>();

/** Reads the settings from the Worker's env; it takes no Env type so Node tests can use it too. */
export function readConfig(env: ConfigVars): Readonly<MeshConfig> {
  let config = readConfigs.get(env);
  if (config === undefined) {
    config = parseConfig(env);
    readConfigs.set(env, config);
  }
  return config;
}

function parseConfig(env: ConfigVars): MeshConfig {
  const unknown = env.UNKNOWN_EVENT_TYPES ?? "accept";
  if (unknown !== "accept" && unknown !== "reject") {
    throw new Error(`config UNKNOWN_EVENT_TYPES must be "accept" or "reject", got "${unknown}"`);
  }
  return {
    maxEventBytes: positiveInt(env.MAX_EVENT_BYTES, DEFAULT_LIMITS.maxEventBytes, "MAX_EVENT_BYTES"),
    maxBatchEvents: positiveInt(env.MAX_BATCH_EVENTS, DEFAULT_LIMITS.maxBatchEvents, "MAX_BATCH_EVENTS"),
    maxBodyBytes: positiveInt(env.MAX_BODY_BYTES, DEFAULT_LIMITS.maxBodyBytes, "MAX_BODY_BYTES"),
    dedupWindowSeconds: positiveInt(
      env.DEDUP_WINDOW_SECONDS,
      DEFAULT_LIMITS.dedupWindowSeconds,
      "DEDUP_WINDOW_SECONDS",
    ),
    retentionMaxAgeSeconds: positiveInt(
      env.RETENTION_MAX_AGE_SECONDS,
      DEFAULT_LIMITS.retentionMaxAgeSeconds,
      "RETENTION_MAX_AGE_SECONDS",
    ),
    retentionMaxEvents: positiveInt(
      env.RETENTION_MAX_EVENTS,
      DEFAULT_LIMITS.retentionMaxEvents,
      "RETENTION_MAX_EVENTS",
    ),
    retentionMaxBytes: positiveInt(env.RETENTION_MAX_BYTES, DEFAULT_LIMITS.retentionMaxBytes, "RETENTION_MAX_BYTES"),
    retentionProtectSubscriptions: flag(env.RETENTION_PROTECT_SUBSCRIPTIONS, "RETENTION_PROTECT_SUBSCRIPTIONS"),
    unknownEventTypes: unknown,
    replayPageSize: positiveInt(env.REPLAY_PAGE_SIZE, DEFAULT_LIMITS.replayPageSize, "REPLAY_PAGE_SIZE"),
    liveMaxUnackedChars: unackedLimit(env.LIVE_MAX_UNACKED_CHARS),
    liveMaxSocketsPerClient: socketLimit(
      env.LIVE_MAX_SOCKETS_PER_CLIENT,
      DEFAULT_LIMITS.liveMaxSocketsPerClient,
      "LIVE_MAX_SOCKETS_PER_CLIENT",
    ),
    liveMaxSocketsPerCredential: socketLimit(
      env.LIVE_MAX_SOCKETS_PER_CREDENTIAL,
      DEFAULT_LIMITS.liveMaxSocketsPerCredential,
      "LIVE_MAX_SOCKETS_PER_CREDENTIAL",
    ),
    liveStallSeconds: positiveInt(env.LIVE_STALL_SECONDS, DEFAULT_LIMITS.liveStallSeconds, "LIVE_STALL_SECONDS"),
    hubMaxSockets: socketLimit(env.HUB_MAX_SOCKETS, DEFAULT_LIMITS.hubMaxSockets, "HUB_MAX_SOCKETS"),
    hubPoolSize: positiveInt(env.HUB_POOL_SIZE, DEFAULT_LIMITS.hubPoolSize, "HUB_POOL_SIZE"),
    hubConnectAttempts: positiveInt(
      env.HUB_CONNECT_ATTEMPTS,
      DEFAULT_LIMITS.hubConnectAttempts,
      "HUB_CONNECT_ATTEMPTS",
    ),
    hubWindowEvents: positiveInt(env.HUB_WINDOW_EVENTS, DEFAULT_LIMITS.hubWindowEvents, "HUB_WINDOW_EVENTS"),
    hubMaxTopicsPerSocket: positiveInt(
      env.HUB_MAX_TOPICS_PER_SOCKET,
      DEFAULT_LIMITS.hubMaxTopicsPerSocket,
      "HUB_MAX_TOPICS_PER_SOCKET",
    ),
  };
}

/** The runtime refuses sockets past 32,768 per object with a bare error: stay below it. */
const RUNTIME_MAX_SOCKETS = 32_768;

function socketLimit(raw: string | undefined, fallback: number, name: string): number {
  const limit = positiveInt(raw, fallback, name);
  if (limit >= RUNTIME_MAX_SOCKETS) {
    throw new Error(
      `config ${name} must be below the runtime's ${RUNTIME_MAX_SOCKETS} sockets per object, got "${raw}"`,
    );
  }
  return limit;
}

function flag(raw: string | undefined, name: string): boolean {
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new Error(`config ${name} must be "true" or "false", got "${raw}"`);
}

/** The least allowance of unacknowledged characters: under it one large event would stop a reading client. */
export const MIN_UNACKED_CHARS = 4 * DEFAULT_LIMITS.maxEventBytes;

function unackedLimit(raw: string | undefined): number {
  const limit = positiveInt(raw, DEFAULT_LIMITS.liveMaxUnackedChars, "LIVE_MAX_UNACKED_CHARS");
  if (limit < MIN_UNACKED_CHARS) {
    throw new Error(`config LIVE_MAX_UNACKED_CHARS must be at least ${MIN_UNACKED_CHARS}, got "${raw}"`);
  }
  return limit;
}
