import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { nowMs } from "./events.ts";

/** What one path of the sink received: events (counted from each body's `events`) and when the last came. */
export interface SinkCount {
  events: number;
  requests: number;
  lastAtMs: number;
}

/**
 * A healthy webhook receiver on 127.0.0.1: every POST is read whole and answered 200 at once. It
 * counts the events of each path (`/hooks/<id>`), so one sink serves every measurement of a run.
 */
export class WebhookSink {
  private readonly counts = new Map<string, SinkCount>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookSink> {
    let sink: WebhookSink | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        sink?.record(req.url ?? "/", Buffer.concat(chunks).toString("utf8"));
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    sink = new WebhookSink(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return sink;
  }

  count(path: string): SinkCount {
    return this.counts.get(path) ?? { events: 0, requests: 0, lastAtMs: 0 };
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private record(path: string, body: string): void {
    const count = this.count(path);
    let events = 0;
    try {
      events = (JSON.parse(body) as { events?: unknown[] }).events?.length ?? 0;
    } catch {
      // Not a delivery body: counted as a request without events.
    }
    this.counts.set(path, { events: count.events + events, requests: count.requests + 1, lastAtMs: nowMs() });
  }
}
