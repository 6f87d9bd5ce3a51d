import type { IncomingHttpHeaders } from "node:http";
import { Webhook } from "standardwebhooks";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkBySize, queueMessages } from "../../durable-objects/queue-sender.ts";
import { generateWebhookSecret, sendWebhook, signWebhook } from "../../durable-objects/webhook-sender.ts";
import { QueueMessageSchema } from "../../protocol/queue-message.ts";
import { isWebhookSecret } from "../../protocol/subscriptions.ts";
import { type LocalHttp, startLocalHttp } from "../support/local-http.ts";

describe("signWebhook", () => {
  it("produces a signature the standardwebhooks package accepts", async () => {
    const secret = generateWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ topic: "t", subscription: "s", events: [{ seq: 1 }] });
    const signature = await signWebhook(secret, "t:s:1", timestamp, body);
    const headers = { "webhook-id": "t:s:1", "webhook-timestamp": String(timestamp), "webhook-signature": signature };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // The same message signed by the package itself: byte-for-byte the same signature.
    expect(new Webhook(secret).sign("t:s:1", new Date(timestamp * 1000), body)).toBe(signature);
  });

  it("is refused for a changed body or another secret", async () => {
    const secret = generateWebhookSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = await signWebhook(secret, "id", timestamp, '{"a":1}');
    const headers = { "webhook-id": "id", "webhook-timestamp": String(timestamp), "webhook-signature": signature };
    expect(() => new Webhook(secret).verify('{"a":2}', headers)).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify('{"a":1}', headers)).toThrow();
  });

  it("generates secrets of the whsec_ form that the schema accepts", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(isWebhookSecret(secret)).toBe(true);
    expect(isWebhookSecret("whsec_c2hvcnQ=")).toBe(false);
    expect(isWebhookSecret("secret")).toBe(false);
  });
});

describe("sendWebhook against a real HTTP server", () => {
  let server: LocalHttp;
  let base = "";
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = await startLocalHttp(
      async (req, res) => {
        let body = "";
        for await (const chunk of req) body += chunk;
        seen.push({ headers: req.headers, body });
        const path = req.url ?? "/";
        if (path === "/ok") res.writeHead(204).end();
        else if (path === "/fail") res.writeHead(503, "Service Unavailable").end("down for maintenance");
        else if (path === "/moved") res.writeHead(302, { location: "/ok" }).end();
        else if (path === "/slow") setTimeout(() => res.writeHead(200).end(), 1000);
      },
      (_err, res) => res.destroy(),
    );
    base = server.url;
  });
  afterAll(() => server.stop());

  const secret = generateWebhookSecret();
  const send = (path: string, timeoutMs = 2000) =>
    sendWebhook({
      url: `${base}${path}`,
      secrets: [secret],
      timeoutMs,
      id: "t:s:7",
      body: '{"x":1}',
      headers: { traceparent: "00-abc" },
    });

  it("succeeds on 2xx with verifiable Standard Webhooks headers", async () => {
    expect(await send("/ok")).toEqual({ ok: true });
    const { headers, body } = seen[seen.length - 1];
    expect(body).toBe('{"x":1}');
    expect(headers["content-type"]).toBe("application/json");
    expect(headers.traceparent).toBe("00-abc");
    expect(() => new Webhook(secret).verify(body, headers as Record<string, string>)).not.toThrow();
  });

  it("signs with each secret while one is being retired: a receiver with either verifies", async () => {
    const retiring = generateWebhookSecret();
    const result = await sendWebhook({
      url: `${base}/ok`,
      secrets: [secret, retiring],
      timeoutMs: 2000,
      id: "t:s:8",
      body: "{}",
    });
    expect(result).toEqual({ ok: true });
    const { headers, body } = seen[seen.length - 1];
    expect(String(headers["webhook-signature"]).split(" ")).toHaveLength(2);
    for (const key of [secret, retiring]) {
      expect(() => new Webhook(key).verify(body, headers as Record<string, string>)).not.toThrow();
    }
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers as Record<string, string>)).toThrow();
  });

  it("fails on another status, keeping the status and the start of the answer", async () => {
    expect(await send("/fail")).toEqual({ ok: false, error: "HTTP 503 Service Unavailable: down for maintenance" });
  });

  it("does not follow redirects", async () => {
    const result = await send("/moved");
    expect(result).toMatchObject({ ok: false });
    expect(!result.ok && result.error).toMatch(/^HTTP 302 .*redirects are not followed/);
  });

  it("fails on a timeout and on a network error", async () => {
    expect(await send("/slow", 100)).toEqual({ ok: false, error: "timed out after 100 ms" });
    const closed = await sendWebhook({
      url: "http://127.0.0.1:1/x",
      secrets: [secret],
      timeoutMs: 2000,
      id: "i",
      body: "{}",
    });
    expect(closed).toMatchObject({ ok: false });
    expect(!closed.ok && closed.error).toMatch(/^network error/);
  });
});

describe("queue messages", () => {
  const row = (seq: number, extra: Record<string, unknown> = {}) => ({
    seq,
    type: "Thing",
    body: JSON.stringify({ id: `e${seq}`, source: "s", specversion: "1.0", type: "Thing", seq: seq, ...extra }),
  });

  it("carry topic, seq, subscription, the event and its trace context, valid by the shared schema", () => {
    const messages = queueMessages("orders", "billing", [row(1, { traceparent: "00-trace" }), row(2)]);
    for (const message of messages) expect(v.safeParse(QueueMessageSchema, message).success).toBe(true);
    expect(messages[0]).toMatchObject({ topic: "orders", seq: 1, subscription: "billing", traceparent: "00-trace" });
    expect(messages[1]).not.toHaveProperty("traceparent");
    expect(messages[1].event).toMatchObject({ id: "e2", seq: 2 });
  });

  it("split into sendBatch calls under the size limit, in seq order", () => {
    const messages = queueMessages("t", "s", [row(1), row(2), row(3)]);
    const size = JSON.stringify(messages[0]).length;
    const chunks = chunkBySize(messages, size * 2 + 1);
    expect(chunks.map((c) => c.map((m) => m.seq))).toEqual([[1, 2], [3]]);
  });
});
