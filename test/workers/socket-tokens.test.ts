import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TokenRequest } from "../../protocol/auth.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import { authFrame } from "../../protocol/frames.ts";
import { mintToken } from "../../runtime/tokens.ts";
import { KEYS, TOKEN_SECRET } from "../support/credentials.ts";
import { hubStub } from "./support/hub-socket.ts";
import { meshFetch } from "./support/mesh-fetch.ts";
import { collect, type Socket } from "./support/socket.ts";

/**
 * A subscriber token is enforced for as long as its socket stays open: the socket is closed when
 * the token expires unless the client refreshes it in band (never wider), and a revoked token or
 * subject loses its open sockets at once and is refused on reconnect. The hub that holds the
 * one-topic socket enforces it, from its alarm and on its socket.
 */

async function token(topics: string[], extra: Partial<TokenRequest> = {}) {
  const request: TokenRequest = { topics, ops: ["subscribe", "history"], ttlSeconds: 600, ...extra };
  const { token: jwt, claims } = await mintToken(request, KEYS.admin, TOKEN_SECRET);
  return { token: jwt, tokenId: claims.jti, expiresAt: new Date(claims.exp * 1000).toISOString() };
}

/** Opens the topic's socket through the Worker with a token in the query, or the admin key; `hub` holds it. */
async function open(
  topic: string,
  credential: string | null,
  headers: Record<string, string> = {},
): Promise<Socket & { hub: string }> {
  const url = `http://mesh/v1/topics/${topic}/ws${credential === null ? "" : `?token=${encodeURIComponent(credential)}`}`;
  const init = { headers: { upgrade: "websocket", ...headers } };
  // The key goes in the header; a token in the query, as a browser sends it.
  const res = await (credential === null ? meshFetch(url, init) : exports.default.fetch(url, init));
  const socket = collect(res);
  await socket.until((frames) => frames.some((f) => f.type === "caught-up" || f.type === "error"), "caught-up");
  return { ...socket, hub: res.headers.get("x-mesh-hub") ?? "" };
}

const lastFrame = (socket: Socket) => socket.frames[socket.frames.length - 1];

/** Moves every token socket's expiry on the hub into the past, as time passing would. */
async function expireTokensOn(hub: string) {
  await runInDurableObject(hubStub(hub), (_instance, state) => {
    state.storage.sql.exec("UPDATE sockets SET expires_at = ? WHERE expires_at IS NOT NULL", Date.now() - 1);
  });
}

/** When the hub's sockets' tokens expire (those that run on one). */
const expiriesOn = (hub: string) =>
  runInDurableObject(hubStub(hub), (_instance, state) =>
    state.storage.sql
      .exec<{ at: number }>("SELECT expires_at AS at FROM sockets WHERE expires_at IS NOT NULL")
      .toArray()
      .map((row) => row.at),
  );

function revoke(body: unknown, authorization = `Bearer ${KEYS.admin.secret}`) {
  return meshFetch("http://mesh/v1/tokens/revocations", {
    method: "POST",
    headers: { "content-type": "application/json", authorization },
    body: JSON.stringify(body),
  });
}

describe("tokens on open sockets", () => {
  it("arms the hub's alarm for the token's expiry and closes the socket with 4440 when it passes", async () => {
    const topic = "tok.expiry";
    const { token: jwt, expiresAt } = await token([topic]);
    const socket = await open(topic, jwt);
    const keySocket = await open(topic, null);
    expect(keySocket.hub).toBe(socket.hub);
    const alarm = await runInDurableObject(hubStub(socket.hub), (_, state) => state.storage.getAlarm());
    expect(alarm).toBe(Date.parse(expiresAt));

    await expireTokensOn(socket.hub);
    expect(await runDurableObjectAlarm(hubStub(socket.hub))).toBe(true);
    expect(await socket.closed).toEqual({ code: CLOSE.tokenExpired, reason: "token_expired" });
    expect(lastFrame(socket)).toMatchObject({ type: "error", code: "token_expired" });
    // A socket opened with a key has no token to expire.
    keySocket.ws.send("ping");
    await keySocket.until(() => keySocket.texts.includes("pong"), "pong");
  });

  it("keeps a socket open on a refreshed token, and moves the expiry with it", async () => {
    const topic = "tok.refresh";
    const first = await token([topic], { ttlSeconds: 60 });
    const socket = await open(topic, first.token);
    const next = await token([topic], { ttlSeconds: 900 });
    socket.ws.send(authFrame(next.token));
    await socket.until((frames) => frames.some((f) => f.type === "token-refreshed"), "token-refreshed");
    expect(lastFrame(socket)).toEqual({ type: "token-refreshed", expiresAt: next.expiresAt });

    const expiries = await expiriesOn(socket.hub);
    expect(expiries).toContain(Date.parse(next.expiresAt));
    expect(expiries).not.toContain(Date.parse(first.expiresAt));

    // The alarm runs (as at the old expiry): it finds the socket's new token still good.
    await runDurableObjectAlarm(hubStub(socket.hub));
    socket.ws.send("ping");
    await socket.until(() => socket.texts.includes("pong"), "pong after the old expiry");
    const alarm = await runInDurableObject(hubStub(socket.hub), (_, state) => state.storage.getAlarm());
    expect(alarm).toBe(Math.min(...(await expiriesOn(socket.hub))));
    expect(alarm).toBeGreaterThan(Date.parse(first.expiresAt));
  });

  it("refuses a refresh that would widen the token, or is not a valid token, and closes the socket", async () => {
    const topic = "tok.narrow";
    const cases = [
      { replacement: (await token(["tok.*"])).token, code: "forbidden", close: CLOSE.forbidden },
      { replacement: (await token(["tok.other"])).token, code: "forbidden", close: CLOSE.forbidden },
      {
        replacement: (await token([topic], { ops: ["history"] })).token,
        code: "forbidden",
        close: CLOSE.forbidden,
      },
      { replacement: (await token([topic], { subject: "someone" })).token, code: "forbidden", close: CLOSE.forbidden },
      {
        replacement: `${(await token([topic])).token.slice(0, -4)}AAAA`,
        code: "unauthorized",
        close: CLOSE.unauthorized,
      },
    ];
    for (const { replacement, code, close } of cases) {
      const socket = await open(topic, (await token([topic], { subject: "owner" })).token);
      socket.ws.send(authFrame(replacement));
      expect((await socket.closed).code, code).toBe(close);
      expect(lastFrame(socket)).toMatchObject({ type: "error", code });
    }
  });

  it("answers text that is not a token, or a refresh on a key's socket, with an error frame and stays open", async () => {
    const topic = "tok.texts";
    const socket = await open(topic, (await token([topic])).token);
    socket.ws.send("auth:not-a-token");
    await socket.until((frames) => frames.some((f) => f.type === "error"), "error frame");
    expect(lastFrame(socket)).toMatchObject({ code: "invalid_body" });

    const keySocket = await open(topic, null);
    keySocket.ws.send(authFrame((await token([topic])).token));
    await keySocket.until((frames) => frames.some((f) => f.type === "error"), "error frame");
    expect(lastFrame(keySocket)).toMatchObject({ code: "invalid_body", message: expect.stringContaining("key") });
    for (const open of [socket, keySocket]) {
      open.ws.send("ping");
      await open.until(() => open.texts.includes("pong"), "pong");
    }
  });
});

describe("POST /v1/tokens/revocations", () => {
  it("closes a revoked token's sockets with 4401 and refuses it from then on, other tokens untouched", async () => {
    const revoked = await token(["tok.rev.*"]);
    const kept = await token(["tok.rev.*"]);
    const sockets = [await open("tok.rev.a", revoked.token), await open("tok.rev.b", revoked.token)];
    const other = await open("tok.rev.a", kept.token);

    const res = await revoke({ tokenId: revoked.tokenId });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { kind: string; value: string; until: string; disconnected: number };
    expect(body).toMatchObject({ kind: "token", value: revoked.tokenId, disconnected: 2 });
    expect(Date.parse(body.until)).toBeGreaterThanOrEqual(Date.parse(revoked.expiresAt));
    for (const socket of sockets) {
      expect((await socket.closed).code).toBe(CLOSE.unauthorized);
      expect(lastFrame(socket)).toMatchObject({ type: "error", code: "token_revoked" });
    }

    const again = await open("tok.rev.a", revoked.token);
    expect((await again.closed).code).toBe(CLOSE.unauthorized);
    expect(lastFrame(again)).toMatchObject({ code: "token_revoked" });
    const history = await meshFetch("http://mesh/v1/topics/tok.rev.a/events", {
      headers: { authorization: `Bearer ${revoked.token}` },
    });
    expect(history.status).toBe(401);
    expect(await history.json()).toMatchObject({ error: { code: "token_revoked" } });

    // A revoked token cannot come back as a refresh either.
    other.ws.send(authFrame(revoked.token));
    expect((await other.closed).code).toBe(CLOSE.unauthorized);
    expect(lastFrame(other)).toMatchObject({ code: "token_revoked" });
    const fresh = await open("tok.rev.a", (await token(["tok.rev.*"])).token);
    expect(lastFrame(fresh)).toMatchObject({ type: "caught-up" });
  });

  it("revokes every token of a subject, on every topic", async () => {
    const a = await token(["tok.sub.*"], { subject: "user-7" });
    const b = await token(["tok.sub.b"], { subject: "user-7" });
    const sockets = [await open("tok.sub.a", a.token), await open("tok.sub.b", b.token)];
    const res = await revoke({ subject: "user-7" });
    expect(await res.json()).toMatchObject({ kind: "subject", value: "user-7", disconnected: 2 });
    for (const socket of sockets) expect((await socket.closed).code).toBe(CLOSE.unauthorized);
    const later = await token(["tok.sub.a"], { subject: "user-7" });
    expect(lastFrame(await open("tok.sub.a", later.token))).toMatchObject({ code: "token_revoked" });
  });

  it("takes an admin key for every topic and one of tokenId or subject", async () => {
    for (const body of [{}, { tokenId: "" }, { tokenId: "a", subject: "b" }, { jti: "a" }]) {
      const res = await revoke(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_body" } });
    }
    const reader = await revoke({ subject: "x" }, `Bearer ${KEYS.reader.secret}`);
    expect(reader.status).toBe(403);
    expect(await reader.json()).toMatchObject({ error: { code: "forbidden" } });
  });

  it("tells the hub about the caller only from the Worker, never from the client's headers", async () => {
    const topic = "tok.spoof";
    const spoofed = JSON.stringify({ tokenId: "spoofed", topics: [topic], ops: ["subscribe"], expiresAt: 1 });
    const socket = await open(topic, null, { "x-mesh-token": spoofed, "x-mesh-credential": "token:spoofed" });
    expect(lastFrame(socket)).toMatchObject({ type: "caught-up" });
    expect(await (await revoke({ tokenId: "spoofed" })).json()).toMatchObject({ disconnected: 0 });
    expect(await expiriesOn(socket.hub)).toEqual([]);
    await expireTokensOn(socket.hub);
    await runDurableObjectAlarm(hubStub(socket.hub));
    socket.ws.send("ping");
    await socket.until(() => socket.texts.includes("pong"), "pong");
  });
});
