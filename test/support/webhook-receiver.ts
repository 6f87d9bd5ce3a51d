import type { IncomingMessage, ServerResponse } from "node:http";
import { Webhook } from "standardwebhooks";
import { LocalHttpServer, readRequestBody } from "./local-http.ts";
import type { EndpointBehaviour, ReceivedRequest } from "./webhook-receiver-types.ts";

interface Endpoint {
  behaviour: EndpointBehaviour;
  requests: ReceivedRequest[];
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 with named endpoints (`/hooks/<id>`). Tests in Node use
 * it directly; tests inside workerd drive it through its control routes (`/endpoints/<id>`).
 */
export class WebhookReceiver extends LocalHttpServer {
  private readonly endpoints = new Map<string, Endpoint>();

  /** Creates (or resets) an endpoint and returns its webhook URL. */
  endpoint(id: string, behaviour: EndpointBehaviour = {}): string {
    this.endpoints.set(id, { behaviour, requests: [] });
    return this.hookUrl(id);
  }

  hookUrl(id: string): string {
    return `${this.url}/hooks/${encodeURIComponent(id)}`;
  }

  /** Changes how an endpoint answers from now on; its requests so far are kept. */
  update(id: string, change: EndpointBehaviour): void {
    const endpoint = this.get(id);
    endpoint.behaviour = { ...endpoint.behaviour, ...change };
  }

  requests(id: string): ReceivedRequest[] {
    return this.get(id).requests;
  }

  /** Seqs of the events the endpoint accepted (answered 2xx), in arrival order. */
  acceptedSeqs(id: string): number[] {
    return this.requests(id)
      .filter((r) => r.status < 300)
      .flatMap((r) => r.seqs);
  }

  private get(id: string): Endpoint {
    const endpoint = this.endpoints.get(id);
    if (!endpoint) throw new Error(`no endpoint ${id}`);
    return endpoint;
  }

  protected fail(err: unknown, res: ServerResponse): void {
    res.writeHead(500).end(String(err));
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const [, kind, rawId] = url.pathname.split("/");
    const id = decodeURIComponent(rawId ?? "");
    const text = (await readRequestBody(req)).toString("utf8");
    if (kind === "hooks" && req.method === "POST") return this.receive(id, req, text, res);
    if (kind === "endpoints") return this.control(id, req.method ?? "GET", text, res);
    res.writeHead(404).end();
  }

  private async receive(id: string, req: IncomingMessage, text: string, res: ServerResponse): Promise<void> {
    const endpoint = this.endpoints.get(id);
    if (!endpoint) {
      res.writeHead(404).end("no such endpoint");
      return;
    }
    const { behaviour } = endpoint;
    const header = (name: string) => (req.headers[name] as string | undefined) ?? null;
    let body: ReceivedRequest["body"] = {};
    let verified = false;
    try {
      if (behaviour.secret) {
        body = new Webhook(behaviour.secret).verify(text, {
          "webhook-id": header("webhook-id") ?? "",
          "webhook-timestamp": header("webhook-timestamp") ?? "",
          "webhook-signature": header("webhook-signature") ?? "",
        }) as ReceivedRequest["body"];
        verified = true;
      } else {
        body = JSON.parse(text);
      }
    } catch {
      // Recorded as unverified and refused below.
    }
    const seqs = (body.events ?? []).map((e) => e.seq);
    const fail =
      behaviour.failAll || (behaviour.failNext ?? 0) > 0 || seqs.some((seq) => behaviour.failSeqs?.includes(seq));
    if ((behaviour.failNext ?? 0) > 0) behaviour.failNext = (behaviour.failNext ?? 0) - 1;
    const status = behaviour.secret && !verified ? 401 : fail ? (behaviour.failStatus ?? 503) : 200;
    endpoint.requests.push({
      webhookId: header("webhook-id"),
      timestamp: header("webhook-timestamp"),
      attempt: header("x-mesh-attempt"),
      traceparent: header("traceparent"),
      verified,
      status,
      seqs,
      body,
    });
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : `receiver refused (${status})`);
  }

  /** `PUT` creates or resets an endpoint, `PATCH` changes its behaviour, `GET` lists its requests. */
  private control(id: string, method: string, text: string, res: ServerResponse): void {
    if (method === "PUT") this.endpoint(id, JSON.parse(text || "{}"));
    else if (method === "PATCH") this.update(id, JSON.parse(text || "{}"));
    else if (!this.endpoints.has(id)) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ url: this.hookUrl(id), requests: this.requests(id) }));
  }
}
