/** What the publisher reads of one HTTP answer. */
export interface TransportAnswer {
  status: number;
  /** The body as text ("" when it could not be read). */
  text: string;
  /** The Retry-After header, or null. */
  retryAfter: string | null;
}

/** One publish POST. */
export interface TransportRequest {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/**
 * Sends one POST and resolves with its answer; rejects when the request failed on the way (the
 * publisher retries that) or with the signal's reason once it aborts.
 */
export type PublishTransport = (url: string, request: TransportRequest) => Promise<TransportAnswer>;

/** A fetch as the publisher calls it (`PublisherOptions.fetch`). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Publishes through a fetch: the global one in Workers and browsers, or the caller's own. */
export function fetchTransport(doFetch: FetchLike): PublishTransport {
  return async (url, { headers, body, signal }) => {
    const res = await doFetch(url, { method: "POST", headers, body, signal });
    const text = await res.text().catch(() => "");
    return { status: res.status, text, retryAfter: res.headers.get("retry-after") };
  };
}
