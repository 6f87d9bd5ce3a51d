import type { Mesh } from "event-mesh";
import type { ErrorBody } from "event-mesh/client";
import { createPublisher, PublishError, type PublishEvent } from "event-mesh/publisher";
import type { DemoCatalog } from "../catalog.ts";
import type { DemoEnv } from "./env.ts";
import { DemoError } from "./errors.ts";

/**
 * The origin the demo's backends address the mesh at. Nothing leaves the Worker: every call goes
 * to the mesh's own `fetch`, in-process, and so takes the same path as an outside client's (auth,
 * validation, rate limits).
 */
export const MESH_ORIGIN = "https://mesh.internal";

/** In-process calls get no retries of their own beyond a couple of quick ones: the caller (a visitor, a queue) retries. */
const RETRY = { maxAttempts: 2, firstDelayMs: 100, maxDelayMs: 1_000 };

/** The mesh's public HTTP API, as one invocation of the demo's Worker calls it with the demo's keys. */
export interface MeshLink {
  /** Publishes one event with the publisher SDK; a refusal becomes a `mesh_refused` DemoError. */
  publish<T extends string>(
    key: string,
    source: string,
    topic: string,
    event: PublishEvent<DemoCatalog, T>,
  ): Promise<{ seq: number; duplicate: boolean }>;
  /** Calls an API route with a key, and answers the mesh's response as it is. */
  request(key: string, method: string, path: string, body?: unknown): Promise<Response>;
  /** `request`, then the JSON answer; any refusal becomes a `mesh_refused` DemoError naming `what` failed. */
  json<T>(what: string, key: string, method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * The link for one invocation. The visitor's address, when there is one, goes along as
 * `cf-connecting-ip`, so the mesh's per-address rate limits count each visitor on their own.
 */
export function meshLink(
  meshFetch: Mesh["fetch"],
  env: DemoEnv,
  ctx: ExecutionContext,
  clientAddress?: string,
): MeshLink {
  const address: Record<string, string> = clientAddress ? { "cf-connecting-ip": clientAddress } : {};
  const fetchInProcess = (url: string, init: RequestInit) => meshFetch(new Request(url, init), env, ctx);

  const request: MeshLink["request"] = (key, method, path, body) =>
    fetchInProcess(`${MESH_ORIGIN}${path}`, {
      method,
      headers: {
        ...address,
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  return {
    async publish(key, source, topic, event) {
      const publisher = createPublisher<DemoCatalog>({
        baseUrl: MESH_ORIGIN,
        key,
        source,
        headers: address,
        retry: RETRY,
        fetch: fetchInProcess,
      });
      try {
        const [published] = (await publisher.publish(topic, event)).events;
        return { seq: published.seq, duplicate: published.duplicate };
      } catch (err) {
        if (!(err instanceof PublishError)) throw err;
        const retryAfter = err.details.retryAfterSeconds;
        throw meshError(`publish ${event.type} to ${topic}`, err.status, `${err.code}: ${err.message}`, retryAfter);
      }
    },
    request,
    async json<T>(what: string, key: string, method: string, path: string, body?: unknown) {
      const res = await request(key, method, path, body);
      if (!res.ok) throw await meshRefusal(what, res);
      return res.json<T>();
    },
  };
}

/** A refusal of the mesh (a response that is not 2xx) as the demo's own error. */
export async function meshRefusal(what: string, res: Response): Promise<DemoError> {
  const body = (await res.json().catch(() => null)) as ErrorBody | null;
  const reason = body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`;
  return meshError(what, res.status, reason, res.headers.get("retry-after"));
}

/**
 * The mesh's rate limits count the visitor's address, so a 429 is the visitor's to wait out, with
 * the mesh's Retry-After; any other refusal means the demo's backend did something wrong.
 */
function meshError(what: string, status: number | null, reason: string, retryAfter: unknown): DemoError {
  if (status === 429) {
    const headers: Record<string, string> = retryAfter == null ? {} : { "retry-after": String(retryAfter) };
    return new DemoError("rate_limited", `too many requests: the mesh would not ${what} now (${reason})`, {}, headers);
  }
  return new DemoError("mesh_refused", `the mesh refused to ${what}: ${reason}`);
}
