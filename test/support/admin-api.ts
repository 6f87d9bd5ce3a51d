import type { HistoryPage, PublishResponse, TopicInfo } from "../../protocol/responses.ts";
import { ADMIN_AUTH } from "./credentials.ts";
import type { LoggedEvent } from "./invariants.ts";

/** A test server; its URL is read at each request, since a server learns its port when it starts. */
export interface Served {
  readonly url: string;
}

/**
 * The HTTP API of a test server with the all-scope test key, for Node tests that set up or read
 * back what they test (refusals are test/workers/security.test.ts's and route-security.test.ts's).
 */
export interface AdminApi {
  /** A request with the admin key; a body is sent as JSON unless another content type is given. */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<Response>;
  /** The answer's JSON; anything but a 2xx throws with the status and the body. */
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Publishes CloudEvents in batch mode; anything but a 201 throws. */
  publish(topic: string, events: readonly object[]): Promise<PublishResponse>;
  info(topic: string): Promise<TopicInfo>;
  /** A topic's whole retained log, page by page. */
  readLog(topic: string): Promise<{ head: number; events: LoggedEvent[] }>;
}

export function adminApi(server: Served): AdminApi {
  const api: AdminApi = {
    request: (method, path, body, contentType = "application/json") =>
      fetch(`${server.url}${path}`, {
        method,
        headers: body === undefined ? ADMIN_AUTH : { "content-type": contentType, ...ADMIN_AUTH },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    async json<T>(method: string, path: string, body?: unknown) {
      const res = await api.request(method, path, body);
      if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async publish(topic, events) {
      const path = `/v1/topics/${encodeURIComponent(topic)}/events`;
      const res = await api.request("POST", path, events, "application/cloudevents-batch+json");
      if (res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as PublishResponse;
    },
    info: (topic) => api.json("GET", `/v1/topics/${encodeURIComponent(topic)}`),
    async readLog(topic) {
      const events: LoggedEvent[] = [];
      for (let after = 0; ; ) {
        const page = await api.json<HistoryPage>(
          "GET",
          `/v1/topics/${encodeURIComponent(topic)}/events?after=${after}&limit=1000`,
        );
        events.push(...(page.events as unknown as LoggedEvent[]));
        if (!page.more) return { head: page.head, events };
        after = page.next;
      }
    },
  };
  return api;
}
