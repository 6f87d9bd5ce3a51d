import { Agent, request } from "node:http";

/** Keep-alive connections shared by every request of a run, so each request costs one round trip. */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface HttpResult {
  status: number;
  body: string;
}

/**
 * One HTTP request to 127.0.0.1 with a string body; the whole answer is read. A request whose
 * kept-alive connection was closed under it (the server's idle close racing the reuse) is sent
 * once more on a fresh connection, as any HTTP client does; publishes to the mesh are idempotent.
 */
export async function httpRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
  timeoutMs = 30_000,
): Promise<HttpResult> {
  try {
    return await requestOnce(method, url, headers, body, timeoutMs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ECONNRESET" && code !== "EPIPE") throw err;
    return requestOnce(method, url, headers, body, timeoutMs);
  }
}

function requestOnce(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
  timeoutMs = 30_000,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    // An explicit length lets headers and body leave in one write (no chunked encoding).
    const sized = body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
    const req = request(url, { method, agent, headers: sized, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** A POST that must succeed; anything but 2xx throws with the answer (e.g. a rate limit left in place). */
export async function postOk(url: string, headers: Record<string, string>, body: string): Promise<string> {
  const res = await httpRequest("POST", url, headers, body);
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`POST ${url} answered ${res.status}: ${res.body.slice(0, 300)}`);
  }
  return res.body;
}

export function closeHttp(): void {
  agent.destroy();
}
