import type Redis from "ioredis";
import type { NatsConnection } from "nats";
import type { BenchOptions } from "../options.ts";
import type { LocalWorker } from "../setup/workers.ts";

/** A peer that runs as a Node child process of the bench. */
export interface NodePeer {
  url: string;
  wsUrl: string;
  pid: number;
}

/** Everything a suite may use; all of it was started by the bench and is stopped by it. */
export interface BenchContext {
  options: BenchOptions;
  mesh: LocalWorker;
  ceiling: LocalWorker;
  nats: NatsConnection;
  natsUrl: string;
  redis: Redis;
  broadcaster: NodePeer;
  /** Starts a fresh Node ws broadcaster; the suite stops it. */
  startBroadcaster(): Promise<NodePeer & { stop(): Promise<void> }>;
  /** Starts the JetStream → WebSocket bridge following `stream`; the suite stops it. */
  startBridge(stream: string): Promise<NodePeer & { stop(): Promise<void> }>;
  log(line: string): void;
}

export const PAYLOAD_BYTES = 128;
export const LARGE_PAYLOAD_BYTES = 16 * 1024;

export const MESH_EVENT_TYPE = "application/cloudevents+json";
export const MESH_BATCH_TYPE = "application/cloudevents-batch+json";
