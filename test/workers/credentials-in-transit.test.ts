import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CLOSE } from "../../protocol/close-codes.ts";
import { mintToken } from "../../runtime/tokens.ts";
import { createApp } from "../../worker/app.ts";
import { KEYS, TOKEN_SECRET } from "../support/credentials.ts";
import { testCatalog } from "../support/test-catalog.ts";
import { collect } from "./support/socket.ts";

/**
 * Keys never travel in URLs (proxies, logs and browser histories keep URLs), and no credential,
 * accepted or refused, ever appears in a line the mesh logs.
 */
const TOPIC = "transit.orders";
const app = createApp({ catalog: testCatalog });
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const send = (path: string, init: RequestInit = {}) => app.fetch(new Request(`http://mesh${path}`, init), env, ctx);
const event = (id: string) => JSON.stringify({ id, source: "/transit", type: "Thing", specversion: "1.0" });

let token: string;
const lines: string[] = [];

beforeAll(async () => {
  const minted = await mintToken(
    { topics: [TOPIC], ops: ["subscribe", "history"], ttlSeconds: 60 },
    KEYS.admin,
    TOKEN_SECRET,
  );
  token = minted.token;
  for (const method of ["log", "error", "warn", "info"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
  }
});

afterAll(() => vi.restoreAllMocks());

describe("keys in URLs", () => {
  it("refuses a key in ?token= on the WebSocket route, on the socket, with a terminal close", async () => {
    const res = await send(`/v1/topics/${TOPIC}/ws?token=${KEYS.admin.secret}`, { headers: { upgrade: "websocket" } });
    const socket = collect(res);
    await socket.until((frames) => frames.length > 0, "the error frame");
    expect(socket.frames[0]).toMatchObject({ type: "error", code: "key_in_url" });
    expect((await socket.closed).code).toBe(CLOSE.badRequest);
  });

  it("refuses a key in ?token= on any other route, even with a valid header, and stores nothing", async () => {
    const before = await (
      await send(`/v1/topics/${TOPIC}`, { headers: { authorization: `Bearer ${KEYS.admin.secret}` } })
    ).json();
    const res = await send(`/v1/topics/${TOPIC}/events?token=${KEYS.admin.secret}`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.admin.secret}`, "content-type": "application/cloudevents+json" },
      body: event("leaky"),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "key_in_url", message: expect.stringContaining("Authorization") },
    });
    const after = await (
      await send(`/v1/topics/${TOPIC}`, { headers: { authorization: `Bearer ${KEYS.admin.secret}` } })
    ).json();
    expect(after).toEqual(before);
  });

  it("takes a subscriber token in ?token= on the WebSocket route", async () => {
    const res = await send(`/v1/topics/${TOPIC}/ws?token=${token}`, { headers: { upgrade: "websocket" } });
    const socket = collect(res);
    await socket.until((frames) => frames.some((f) => f.type === "caught-up"), "caught-up");
    socket.ws.close(1000);
  });
});

describe("log lines", () => {
  it("never carry a credential, whether it was accepted, refused or misplaced", async () => {
    const wrongKey = "sk_wrong_0123456789abcdefghijklmnop";
    const expired = (
      await mintToken(
        { topics: [TOPIC], ops: ["history"], ttlSeconds: 10 },
        KEYS.admin,
        TOKEN_SECRET,
        Date.now() - 3_600_000,
      )
    ).token;
    const attempts: [string, RequestInit][] = [
      [
        `/v1/topics/${TOPIC}/events`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${KEYS.admin.secret}`, "content-type": "application/cloudevents+json" },
          body: event("logged"),
        },
      ],
      [`/v1/topics/${TOPIC}/events`, { headers: { authorization: `Bearer ${wrongKey}` } }],
      [`/v1/topics/${TOPIC}/events`, { headers: { authorization: `Bearer ${expired}` } }],
      [`/v1/topics/${TOPIC}/events?token=${wrongKey}`, {}],
      [`/v1/topics/${TOPIC}/events`, { headers: { authorization: `Bearer ${token}` } }],
      [
        "/v1/tokens",
        {
          method: "POST",
          headers: { authorization: `Bearer ${KEYS.notificationsMinter.secret}`, "content-type": "application/json" },
          body: JSON.stringify({ topics: ["notifications.x"] }),
        },
      ],
    ];
    for (const [path, init] of attempts) await (await send(path, init)).arrayBuffer();
    const secrets = [KEYS.admin.secret, KEYS.notificationsMinter.secret, wrongKey, token, expired, TOKEN_SECRET];
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(lines.filter((line) => line.includes(secret))).toEqual([]);
  });
});
