import type { BackoffPolicy } from "../protocol/backoff.ts";
import type { Catalog, EmptyCatalog } from "../protocol/catalog.ts";
import type { JsonValue } from "../protocol/json.ts";
import { isValidTopicName, TOPIC_NAME_RULE } from "../protocol/topic-name.ts";
import { ConnectionPool } from "./connection-pool.ts";
import type { CursorStorage } from "./cursor-storage.ts";
import type { HeartbeatOptions } from "./heartbeat.ts";
import { Presence, type PresenceOptions } from "./presence.ts";
import type { SocketPublishResult } from "./publish-ledger.ts";
import type { PublishEvent } from "./publisher.ts";
import { type SubscribeOptions, Subscription } from "./subscription.ts";
import type { ConnectionMode, ConnectionSettings, TokenSource } from "./transport.ts";

export interface MeshClientOptions {
  /** Where the mesh is: `https://mesh.example.com`, `http://127.0.0.1:8787`, or a `ws(s)://` URL; a path prefix is kept. */
  url: string;
  /** A WebSocket class; browsers have one, Node 20 needs one (e.g. `WebSocket` from `ws`). */
  WebSocket?: unknown;
  /** Reconnect backoff with full jitter (default: first delay up to 500 ms, doubling, at most 15 s). */
  backoff?: Partial<BackoffPolicy>;
  /** Heartbeat timing, or `false` for none (default: ping every 25 s, dead after 10 s of silence). */
  heartbeat?: HeartbeatOptions | false;
  /** How long one connection attempt may take before it is abandoned (default 10,000 ms). */
  connectionTimeoutMs?: number;
  /** The default `storage` of every subscription. */
  storage?: CursorStorage;
  /**
   * A subscriber token from your backend (`POST /v1/tokens`), or an async function returning a
   * fresh one: it is called before every connection and when the server says the token expired.
   */
  token?: TokenSource;
  /**
   * `shared`: the client's subscriptions ride on one `/v1/ws` socket (one per token source);
   * `own`: each has a socket of its own on its topic's URL. A subscription may choose otherwise.
   */
  connection?: ConnectionMode;
  /** `source` of the events `publish` sends without one (default `urn:event-mesh:browser`). */
  source?: string;
}

/** A live client, typed by the app's catalog (`createMeshClient<typeof catalog>(…)`, a type-only import). */
export interface MeshClient<C extends Catalog = EmptyCatalog> {
  /** Follows a topic live, resuming after every disconnect. */
  subscribe<T extends string = string>(topic: string, options: SubscribeOptions<C, T>): Subscription<C, T>;
  /**
   * Publishes one event on the client's shared connection, with a token that allows `publish` on
   * the topic. `id` (a fresh UUID) and `source` are filled when absent and kept for every resend:
   * an event still unanswered when the connection drops is sent again after the reconnect, and the
   * mesh's dedup by `(source, id)` stores it once. Resolves with its seq; rejects with a
   * PublishError whose `code` is the mesh's (`forbidden`, `rate_limited`, `schema_mismatch`, …).
   */
  publish<T extends string = string>(topic: string, event: PublishEvent<C, T>): Promise<SocketPublishResult>;
  /**
   * Follows who is on a topic (and, with `enter`, is there as the token's subject), on the shared
   * connection, whether or not its events are subscribed.
   */
  presence(topic: string, options?: PresenceOptions): Presence;
  /** Closes every subscription and presence made by this client; publishes still unanswered are refused. */
  close(): void;
}

const DEFAULT_BACKOFF: BackoffPolicy = { firstDelayMs: 500, maxDelayMs: 15_000, factor: 2 };

/** A client's subscriptions share one socket: browsers cap sockets per host, and hubs serve many topics per socket. */
const DEFAULT_CONNECTION: ConnectionMode = "shared";

const DEFAULT_SOURCE = "urn:event-mesh:browser";

/** A client for the mesh's live topics, in browsers and in Node 20. */
export function createMeshClient<C extends Catalog = EmptyCatalog>(options: MeshClientOptions): MeshClient<C> {
  const url = new URL(options.url);
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
    throw new TypeError(`url must be http(s) or ws(s), got "${options.url}"`);
  }
  const settings: ConnectionSettings = {
    protocol: url.protocol === "https:" || url.protocol === "wss:" ? "wss" : "ws",
    host: url.host,
    prefix: url.pathname.replace(/^\/+|\/+$/g, ""),
    WebSocket: options.WebSocket,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    heartbeat: options.heartbeat === false ? false : (options.heartbeat ?? {}),
    connectionTimeoutMs: options.connectionTimeoutMs ?? 10_000,
    token: options.token,
  };
  const pool = new ConnectionPool(settings);
  const open = new Set<{ close(): void }>();
  return {
    subscribe<T extends string = string>(topic: string, subscribeOptions: SubscribeOptions<C, T>): Subscription<C, T> {
      if (!isValidTopicName(topic)) throw new TypeError(`invalid topic name "${topic}": ${TOPIC_NAME_RULE}`);
      const onStateChange = subscribeOptions.onStateChange;
      const shared = (subscribeOptions.connection ?? options.connection ?? DEFAULT_CONNECTION) === "shared";
      const subscription: Subscription<C, T> = new Subscription<C, T>(
        topic,
        {
          ...subscribeOptions,
          storage: subscribeOptions.storage ?? options.storage,
          onStateChange: (state, previous) => {
            if (state === "closed") open.delete(subscription);
            onStateChange?.(state, previous);
          },
        },
        settings,
        shared ? (channel) => pool.attach(channel, subscribeOptions.token ?? settings.token) : undefined,
      );
      open.add(subscription);
      return subscription;
    },
    publish<T extends string = string>(topic: string, event: PublishEvent<C, T>): Promise<SocketPublishResult> {
      if (!isValidTopicName(topic)) throw new TypeError(`invalid topic name "${topic}": ${TOPIC_NAME_RULE}`);
      const filled = {
        ...(event as Record<string, JsonValue | undefined>),
        id: event.id ?? crypto.randomUUID(),
        source: event.source ?? options.source ?? DEFAULT_SOURCE,
        specversion: "1.0",
      };
      return pool.publisher(settings.token).publish(topic, filled);
    },
    presence(topic: string, presenceOptions: PresenceOptions = {}): Presence {
      if (!isValidTopicName(topic)) throw new TypeError(`invalid topic name "${topic}": ${TOPIC_NAME_RULE}`);
      const token = presenceOptions.token ?? settings.token;
      const presence = new Presence(topic, presenceOptions, (channel) => {
        const link = pool.attachPresence(channel, token);
        return {
          send: link.send,
          close: () => {
            open.delete(presence);
            link.close();
          },
        };
      });
      open.add(presence);
      return presence;
    },
    close() {
      for (const subscription of [...open]) subscription.close();
      pool.close();
    },
  };
}
