import { type BackoffPolicy, backoffDelay } from "../protocol/backoff.ts";
import type { Catalog, CatalogType, EmptyCatalog, EventData } from "../protocol/catalog.ts";
import type { JsonValue } from "../protocol/json.ts";
import type { PublishResponse } from "../protocol/responses.ts";
import { type CoalesceOptions, createCoalescer, type SendRequest } from "./publish-coalescer.ts";
import { PublishError, toPublishError } from "./publish-error.ts";
import { type FetchLike, fetchTransport, type PublishTransport, type TransportRequest } from "./publish-transport.ts";

/** Attributes a publisher may set; `id`, `source`, `specversion` and `time` are filled when absent. */
interface EventAttributes {
  id?: string;
  source?: string;
  specversion?: "1.0";
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  traceparent?: string;
  tracestate?: string;
  correlationid?: string;
  causationid?: string;
}

/**
 * One event to publish. With a catalog, a catalog type's `data` is typed by its schema; any other
 * type takes any JSON `data` (the server's UNKNOWN_EVENT_TYPES policy decides whether it is
 * accepted). Further extension attributes are allowed; the server checks their names and values.
 */
export type PublishEvent<C extends Catalog = EmptyCatalog, T extends string = string> = EventAttributes &
  (T extends CatalogType<C> ? { type: T; data: EventData<C, T> } : { type: T; data?: JsonValue }) & {
    [extension: string]: unknown;
  };

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). 1 turns retries off. */
  maxAttempts?: number;
  /** Delay ceiling of the first retry in ms (default 200); it doubles per attempt. */
  firstDelayMs?: number;
  /** No wait is longer than this, Retry-After included (default 10,000 ms). */
  maxDelayMs?: number;
}

export interface PublisherOptions {
  /** Where the mesh is, e.g. `https://mesh.example.com` or `http://127.0.0.1:8787`. */
  baseUrl: string;
  /** `source` of events that have none (default `urn:event-mesh:publisher`). */
  source?: string;
  /**
   * The fetch to use. By default the publisher uses the global fetch in Workers and browsers, and
   * its own keep-alive client on `node:http` in Node (`event-mesh/publisher` picks it there).
   */
  fetch?: FetchLike;
  retry?: RetryOptions;
  /** A publisher key allowed to publish to the topics (sent as `Authorization: Bearer <key>`). */
  key?: string;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /**
   * Concurrent calls to one topic share a batch request, each caller still getting its own answer
   * (default on, with the defaults of CoalesceOptions). `false` sends every call on its own.
   */
  coalesce?: CoalesceOptions | false;
}

export interface PublishOptions {
  /**
   * Cancels the publish, including a wait between attempts. A call that shares a request with others
   * is answered with the abort at once, while the request goes on for them (so its events may still
   * be stored, as with any cancelled request that was already sent).
   */
  signal?: AbortSignal;
}

/** A publisher, typed by the app's catalog (`createPublisher<typeof catalog>(…)`, a type-only import). */
export interface Publisher<C extends Catalog = EmptyCatalog> {
  /**
   * Publishes one event or several as one atomic batch. Retries reuse the same ids, so an event is
   * stored once even when an answer was lost. Resolves with the server's answer for these events
   * (per event: `seq` and `duplicate`), also when they shared a request with other calls; rejects
   * with a PublishError.
   */
  publish<T extends string>(
    topic: string,
    events: PublishEvent<C, T> | PublishEvent<C, T>[],
    options?: PublishOptions,
  ): Promise<PublishResponse>;
}

const DEFAULT_SOURCE = "urn:event-mesh:publisher";

/**
 * A publisher that sends through `options.fetch` when given, else through `defaultTransport` (the
 * entry points choose it: fetch in Workers and browsers, `node:http` in Node). It needs only that,
 * crypto.randomUUID and timers.
 */
export function publisherOver<C extends Catalog = EmptyCatalog>(
  options: PublisherOptions,
  defaultTransport: () => PublishTransport,
): Publisher<C> {
  const base = options.baseUrl.replace(/\/+$/, "");
  const source = options.source ?? DEFAULT_SOURCE;
  const transport = options.fetch ? fetchTransport(options.fetch) : defaultTransport();
  const maxAttempts = Math.max(1, options.retry?.maxAttempts ?? 5);
  const policy: BackoffPolicy = {
    firstDelayMs: options.retry?.firstDelayMs ?? 200,
    maxDelayMs: options.retry?.maxDelayMs ?? 10_000,
  };

  const send: SendRequest = async (topic, body, batch, count, signal) => {
    const request: TransportRequest = {
      headers: {
        ...options.headers,
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        "content-type": batch ? "application/cloudevents-batch+json" : "application/cloudevents+json",
      },
      body,
      signal,
    };
    const url = `${base}/v1/topics/${encodeURIComponent(topic)}/events`;
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptOnce(transport, url, request, count, attempt);
      if (outcome.ok) return outcome.body;
      if (!outcome.retryable || attempt >= maxAttempts) throw outcome.error;
      const wait = Math.min(policy.maxDelayMs, outcome.retryAfterMs ?? backoffDelay(attempt, policy));
      await sleep(wait, signal);
    }
  };
  const submit = createCoalescer(send, options.coalesce ?? {});

  return {
    async publish(topic, events, publishOptions = {}) {
      const batch = Array.isArray(events);
      // Filled once, before the first attempt: every retry carries the same ids.
      const texts = (batch ? events : [events]).map((event) =>
        JSON.stringify({
          ...event,
          id: event.id ?? crypto.randomUUID(),
          source: event.source ?? source,
          specversion: event.specversion ?? "1.0",
          time: event.time ?? new Date().toISOString(),
        }),
      );
      return submit(topic, { texts, batch, signal: publishOptions.signal });
    },
  };
}

type Outcome =
  | { ok: true; body: PublishResponse }
  | { ok: false; retryable: boolean; error: PublishError; retryAfterMs: number | null };

async function attemptOnce(
  transport: PublishTransport,
  url: string,
  request: TransportRequest,
  count: number,
  attempt: number,
): Promise<Outcome> {
  let answer: Awaited<ReturnType<PublishTransport>>;
  try {
    answer = await transport(url, request);
  } catch (err) {
    if (request.signal.aborted) throw err;
    const error = new PublishError("network_error", `publish failed: ${String(err)}`, null, {}, attempt);
    return { ok: false, retryable: true, error, retryAfterMs: null };
  }
  const { status, text } = answer;
  if (status >= 200 && status < 300) {
    const body = parseAnswer(text);
    // Each caller of a coalesced request gets its slice: an answer must hold one entry per event.
    if (body?.events?.length === count) return { ok: true, body: body as PublishResponse };
    // A 2xx that is not the mesh's answer (a proxy page): retrying is safe, the ids dedup.
    const error = new PublishError("http_error", `unexpected answer ${status}`, status, {}, attempt);
    return { ok: false, retryable: true, error, retryAfterMs: null };
  }
  const retryable = status === 429 || status >= 500;
  const error = toPublishError(status, text, attempt);
  return { ok: false, retryable, error, retryAfterMs: retryAfterMs(answer.retryAfter) };
}

function parseAnswer(text: string): Partial<PublishResponse> | null {
  try {
    return JSON.parse(text) as Partial<PublishResponse> | null;
  } catch {
    return null;
  }
}

/** Retry-After in ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
