import type { IncomingMessage, ServerResponse } from "node:http";
import { LocalHttpServer, readRequestBody } from "./local-http.ts";

/** How the receiver treats one request. */
export type ChaosOutcome =
  /** 200 at once. */
  | "ok"
  /** 200 after a delay shorter than the sender's timeout. */
  | "slow"
  /** Takes the events, then answers only after the sender gave up (it will send them again). */
  | "timeout"
  /** 500 without taking the events. */
  | "error"
  /** Drops the connection without an answer, without taking the events. */
  | "close";

export interface ChaosRequest {
  endpoint: string;
  webhookId: string;
  seqs: number[];
  outcome: ChaosOutcome;
}

export interface ChaosOptions {
  /** Picks each request's outcome; `always` for requests that carry a failing seq. */
  decide: (endpoint: string, seqs: number[]) => ChaosOutcome;
  /** The senders' timeout, so "slow" stays under it and "timeout" goes over it. */
  senderTimeoutMs: number;
}

/**
 * A webhook receiver that misbehaves on purpose, the ways real ones do: answers 500, answers
 * slowly, hangs past the sender's timeout, or drops the connection. It records what it took
 * ("ok", "slow" and "timeout" requests: their events were processed) for the invariant checks.
 */
export class ChaosReceiver extends LocalHttpServer {
  readonly requests: ChaosRequest[] = [];

  constructor(private readonly options: ChaosOptions) {
    super();
  }

  hookUrl(endpoint: string): string {
    return `${this.url}/hooks/${endpoint}`;
  }

  /** Seqs the endpoint took, in arrival order, repeats included. */
  taken(endpoint: string): number[] {
    return this.requests
      .filter((r) => r.endpoint === endpoint && ["ok", "slow", "timeout"].includes(r.outcome))
      .flatMap((r) => r.seqs);
  }

  count(outcome: ChaosOutcome): number {
    return this.requests.filter((r) => r.outcome === outcome).length;
  }

  protected fail(_err: unknown, res: ServerResponse): void {
    res.destroy();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const endpoint = (req.url ?? "").split("/")[2] ?? "";
    const body = JSON.parse((await readRequestBody(req)).toString("utf8")) as { events: { seq: number }[] };
    const seqs = body.events.map((e) => e.seq);
    const outcome = this.options.decide(endpoint, seqs);
    this.requests.push({ endpoint, webhookId: String(req.headers["webhook-id"]), seqs, outcome });
    const timeout = this.options.senderTimeoutMs;
    switch (outcome) {
      case "ok":
        res.writeHead(200).end("ok");
        return;
      case "slow":
        await sleep(timeout / 3);
        res.writeHead(200).end("ok, slowly");
        return;
      case "timeout":
        await sleep(timeout + 200);
        if (!res.destroyed) res.writeHead(200).end("too late");
        return;
      case "error":
        res.writeHead(500).end("receiver failed");
        return;
      case "close":
        req.socket.destroy();
        return;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
