import type { Env } from "../runtime/env.ts";
import { logLine } from "../runtime/log.ts";
import { MeshError } from "../runtime/mesh-error.ts";
import { hubCandidates } from "./hub-choice.ts";

/** How long a client refused because every hub tried was full waits before it connects again. */
const HUBS_FULL_RETRY_SECONDS = 10;

/** A hub's Durable Object, by name (`hub-<i>`). */
export function hubStub(env: Env, name: string) {
  return env.SOCKET_HUB.get(env.SOCKET_HUB.idFromName(name));
}

export interface HubConnectOptions {
  /** The routing key: sockets with the same key meet on few hubs. */
  key: string;
  poolSize: number;
  attempts: number;
}

/**
 * Hands a socket upgrade to a hub: the key's hubs in the order hub-choice gives, until one takes
 * it. A full hub answers 503 with `x-mesh-refusal: hub_full`; past the last attempt the client is
 * refused with `overloaded` (1013) and a delay. The 101 names the hub in `x-mesh-hub`.
 */
export async function connectToHub(
  env: Env,
  url: string,
  headers: Headers,
  options: HubConnectOptions,
): Promise<Response> {
  for (const name of hubCandidates(options.key, options.poolSize, options.attempts)) {
    const handover = new Headers(headers);
    handover.set("x-mesh-hub", name);
    const response = await hubStub(env, name).fetch(new Request(url, { headers: handover }));
    if (response.status === 503 && response.headers.get("x-mesh-refusal") === "hub_full") continue;
    const named = new Headers(response.headers);
    named.set("x-mesh-hub", name);
    return new Response(response.body, { status: response.status, headers: named, webSocket: response.webSocket });
  }
  logLine("hubs full", { key: options.key, attempts: options.attempts });
  throw new MeshError("overloaded", `every hub tried (${options.attempts}) is full: connect again later`, {
    retryAfterSeconds: HUBS_FULL_RETRY_SECONDS,
  });
}
