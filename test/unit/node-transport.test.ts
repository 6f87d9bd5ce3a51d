import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { nodeTransport } from "../../client/node/node-transport.ts";
import { createPublisher } from "../../client/node/publisher-node.ts";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse, socket: Socket) => void;

/** A server on 127.0.0.1 that records each request's socket and body, answering through `handler`. */
async function serve(handler: Handler) {
  const seen: { socket: Socket; body: string; headers: IncomingMessage["headers"] }[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      seen.push({ socket: req.socket, body, headers: req.headers });
      handler(req, body, res, req.socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/topics/t/events`, seen };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const request = (body: string, signal = new AbortController().signal) => ({
  headers: { "content-type": "application/cloudevents+json", authorization: "Bearer k" },
  body,
  signal,
});

describe("the publisher's Node transport", () => {
  it("posts the body with its length and headers, and reads status, text and Retry-After", async () => {
    const { url, seen } = await serve((_req, _body, res) => {
      res.writeHead(429, { "retry-after": "3", "content-type": "application/json" });
      res.end('{"code":"rate_limited","message":"slow down ✓"}');
    });
    const answer = await nodeTransport()(url, request('{"data":"héllo"}'));
    expect(answer).toEqual({ status: 429, text: '{"code":"rate_limited","message":"slow down ✓"}', retryAfter: "3" });
    expect(seen[0].body).toBe('{"data":"héllo"}');
    expect(seen[0].headers["content-length"]).toBe(String(Buffer.byteLength('{"data":"héllo"}')));
    expect(seen[0].headers["transfer-encoding"]).toBeUndefined();
    expect(seen[0].headers.authorization).toBe("Bearer k");
  });

  it("keeps the connection alive: requests one after another share one socket", async () => {
    const { url, seen } = await serve((_req, _body, res) => res.end("{}"));
    const send = nodeTransport();
    for (let i = 0; i < 3; i++) expect((await send(url, request(`${i}`))).status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(1);
  });

  it("sends a request again on a new connection when a kept-alive one was closed under it", async () => {
    // The second request on a connection finds it closed, as when the server's idle close meets a reuse.
    const { url, seen } = await serve((_req, _body, res, socket) => {
      if (seen.filter((s) => s.socket === socket).length > 1) socket.destroy();
      else res.end("{}");
    });
    const send = nodeTransport();
    expect((await send(url, request("first"))).status).toBe(200);
    expect((await send(url, request("second"))).status).toBe(200);
    expect(seen.map((s) => s.body)).toEqual(["first", "second", "second"]);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(2);
  });

  it("rejects a failure on a new connection (the publisher decides about retries)", async () => {
    const { url } = await serve((_req, _body, _res, socket) => socket.destroy());
    await expect(nodeTransport()(url, request("x"))).rejects.toMatchObject({ code: "ECONNRESET" });
  });

  it("stops when the signal aborts, with no second attempt", async () => {
    const { url, seen } = await serve(() => {});
    const controller = new AbortController();
    const pending = nodeTransport()(url, request("slow", controller.signal));
    await expect.poll(() => seen.length).toBe(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(seen).toHaveLength(1);
  });

  it("is what the Node entry's publisher sends with, unless the options give a fetch", async () => {
    const stored = '{"topic":"t","events":[{"id":"a","source":"s","seq":1,"duplicate":false}]}';
    const { url, seen } = await serve((_req, _body, res) => res.writeHead(201).end(stored));
    const baseUrl = url.replace("/v1/topics/t/events", "");
    const publisher = createPublisher({ baseUrl, coalesce: false });
    await publisher.publish("t", { type: "a", id: "a", source: "s" });
    await publisher.publish("t", { type: "a", id: "a", source: "s" });
    // undici's fetch names itself in user-agent; Node's own client sends none.
    expect(seen.map((s) => s.headers["user-agent"])).toEqual([undefined, undefined]);
    expect(new Set(seen.map((s) => s.socket)).size).toBe(1);
    let fetched = 0;
    const withFetch = createPublisher({
      baseUrl,
      coalesce: false,
      fetch: (input, init) => {
        fetched += 1;
        return fetch(input, init);
      },
    });
    await withFetch.publish("t", { type: "a", id: "a", source: "s" });
    expect(fetched).toBe(1);
    expect(seen[2].headers["user-agent"]).toBe("node");
  });
});
