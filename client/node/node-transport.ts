import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { PublishTransport, TransportAnswer, TransportRequest } from "../publish-transport.ts";

/**
 * Publishes over Node's own HTTP client with kept-alive connections. In Node, the global fetch
 * (undici) made a publisher's cycle at high rates about 1.7× as long as a request on node:http
 * (docs/bench.md, "The SDK in Node"). Idle connections do not keep the process alive.
 */
export function nodeTransport(): PublishTransport {
  const http = new HttpAgent({ keepAlive: true });
  const https = new HttpsAgent({ keepAlive: true });
  return async (url, request) => {
    const target = new URL(url);
    const agent = target.protocol === "https:" ? https : http;
    try {
      return await postOnce(target, request, agent);
    } catch (err) {
      // The server closed a kept-alive connection just as it was reused: the request never reached
      // it, so it goes again on a new connection at once, as Node's documentation advises.
      if (!(err instanceof ReusedSocketClosed)) throw err;
      return postOnce(target, request, agent);
    }
  };
}

class ReusedSocketClosed extends Error {}

function postOnce(
  target: URL,
  { headers, body, signal }: TransportRequest,
  agent: HttpAgent | HttpsAgent,
): Promise<TransportAnswer> {
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: "POST",
        agent,
        signal,
        // A known length lets the headers and the body leave in one write, without chunked encoding.
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      },
      (res: IncomingMessage) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          const retryAfter = res.headers["retry-after"];
          resolve({ status: res.statusCode ?? 0, text, retryAfter: retryAfter ?? null });
        });
        res.on("error", reject);
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      const closedUnder = req.reusedSocket && !signal.aborted && (err.code === "ECONNRESET" || err.code === "EPIPE");
      reject(closedUnder ? new ReusedSocketClosed(err.message) : err);
    });
    req.end(body);
  });
}
