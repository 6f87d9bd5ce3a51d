import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenOnLoopback } from "../../scripts/loopback.mjs";

/** An HTTP server of the tests on a free port of 127.0.0.1, stopped with every connection it holds. */
export interface LocalHttp {
  url: string;
  stop(): Promise<void>;
}

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
