import { inject } from "vitest";
import "../support/provided-context.ts";
import type { EndpointBehaviour, ReceivedRequest } from "../support/webhook-receiver-types.ts";

/**
 * One endpoint of the real webhook receiver that the workers pool's globalSetup runs on
 * 127.0.0.1; driven over HTTP, as the Durable Object under test calls it over HTTP.
 */
export class ReceiverEndpoint {
  readonly url: string;
  private readonly control: string;

  private constructor(id: string) {
    const base = inject("webhookReceiverUrl");
    this.url = `${base}/hooks/${encodeURIComponent(id)}`;
    this.control = `${base}/endpoints/${encodeURIComponent(id)}`;
  }

  static async create(id: string, behaviour: EndpointBehaviour = {}): Promise<ReceiverEndpoint> {
    const endpoint = new ReceiverEndpoint(`${id}-${crypto.randomUUID()}`);
    await endpoint.call("PUT", behaviour);
    return endpoint;
  }

  async update(change: EndpointBehaviour): Promise<void> {
    await this.call("PATCH", change);
  }

  async requests(): Promise<ReceivedRequest[]> {
    return (await this.call("GET")).requests;
  }

  /** Seqs the endpoint accepted (answered 2xx), in arrival order. */
  async acceptedSeqs(): Promise<number[]> {
    return (await this.requests()).filter((r) => r.status < 300).flatMap((r) => r.seqs);
  }

  private async call(method: string, body?: EndpointBehaviour): Promise<{ requests: ReceivedRequest[] }> {
    const res = await fetch(this.control, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`receiver control ${method} answered ${res.status}`);
    return res.json();
  }
}
