import type { IncomingMessage, ServerResponse } from "node:http";
import { LocalHttpServer, readRequestBody } from "./local-http.ts";

/**
 * What the proxy does with one request:
 * - `forward-then-drop`: the server gets and stores it, but the connection is cut before the answer;
 * - `drop`: the connection is cut before anything reaches the server;
 * - `503` / `429`: the proxy answers itself (429 with `Retry-After: 1`);
 * - `pass`: forwarded, and the server's answer goes back.
 */
export type Fault = "forward-then-drop" | "drop" | "503" | "429" | "pass";

export interface ProxiedRequest {
  method: string;
  path: string;
  body: string;
  fault: Fault;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of the real local server that fails requests on purpose,
 * so a client's retries meet real dropped connections and real error answers.
 */
export class FlakyProxy extends LocalHttpServer {
  readonly requests: ProxiedRequest[] = [];

  /** `decide` picks the fault of each request, given what the proxy saw before. */
  constructor(
    private readonly target: () => string,
    private readonly decide: (req: Omit<ProxiedRequest, "fault">, seen: readonly ProxiedRequest[]) => Fault,
  ) {
    super();
  }

  protected fail(err: unknown, res: ServerResponse): void {
    res.destroy(err as Error);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readRequestBody(req);
    const seen = { method: req.method ?? "GET", path: req.url ?? "/", body: body.toString("utf8") };
    const fault = this.decide(seen, this.requests);
    this.requests.push({ ...seen, fault });

    if (fault === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault === "503" || fault === "429") {
      res.writeHead(Number(fault), {
        "content-type": "text/plain",
        ...(fault === "429" ? { "retry-after": "1" } : {}),
      });
      res.end(fault === "503" ? "service unavailable" : "too many requests");
      return;
    }
    const upstream = await fetch(`${this.target()}${seen.path}`, {
      method: seen.method,
      headers: forwardedHeaders(req),
      body: body.length > 0 ? body : undefined,
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    if (fault === "forward-then-drop") {
      // The server has stored the events and answered; the client never hears it.
      req.socket.destroy();
      return;
    }
    // fetch has already decoded the body: its encoding and length headers no longer apply.
    const headers: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!["content-encoding", "content-length", "transfer-encoding"].includes(name)) headers[name] = value;
    });
    res.writeHead(upstream.status, headers);
    res.end(answer);
  }
}

function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || ["host", "connection", "content-length", "transfer-encoding"].includes(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}
