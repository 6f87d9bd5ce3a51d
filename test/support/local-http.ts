import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenOnLoopback } from "../../scripts/loopback.mjs";

/** A request's whole body. */
export async function readRequestBody(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An HTTP server of the tests on a free port of 127.0.0.1, stopped with every connection it holds. */
export interface LocalHttp {
  url: string;
  stop(): Promise<void>;
}

/** Starts a server of the tests that runs `handle` for each request, and `onError` when it throws. */
export async function startLocalHttp(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onError: (err: unknown, res: ServerResponse) => void,
): Promise<LocalHttp> {
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => onError(err, res));
  });
  return {
    url: `http://127.0.0.1:${await listenOnLoopback(server)}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server of the tests as a class: `start()` listens and sets `url`, `stop()` ends every connection. */
export abstract class LocalHttpServer {
  private http: LocalHttp | null = null;
  url = "";

  async start(): Promise<this> {
    this.http = await startLocalHttp(
      (req, res) => this.handle(req, res),
      (err, res) => this.fail(err, res),
    );
    this.url = this.http.url;
    return this;
  }

  async stop(): Promise<void> {
    const http = this.http;
    this.http = null;
    await http?.stop();
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** Answers a request whose handling threw. */
  protected abstract fail(err: unknown, res: ServerResponse): void;
}
