import { describe, expect, it } from "vitest";
import { patternWithin, topicMatches } from "../../protocol/auth.ts";
import { checkToken, mintToken } from "../../runtime/tokens.ts";

const key = { id: "backend", secret: "x".repeat(32), topics: ["*"], ops: ["mint" as const] };
const SECRET = "token-secret-for-unit-tests-0123456789";
const b64url = (s: string) => Buffer.from(s).toString("base64url");

describe("topic patterns", () => {
  it("matches exact names and wildcards", () => {
    expect(topicMatches("users", "users")).toBe(true);
    expect(topicMatches("users", "users2")).toBe(false);
    expect(topicMatches("notifications.*", "notifications.u1")).toBe(true);
    expect(topicMatches("notifications.*", "notifications")).toBe(false);
    expect(topicMatches("*", "anything:at.all")).toBe(true);
    expect(topicMatches("a.b", "aXb")).toBe(false);
  });
  it("keeps minted scopes inside the key's scope", () => {
    expect(patternWithin("notifications.u1", "notifications.*")).toBe(true);
    expect(patternWithin("notifications.*", "notifications.*")).toBe(true);
    expect(patternWithin("*", "notifications.*")).toBe(false);
    expect(patternWithin("notif*", "notifications.*")).toBe(false);
    expect(patternWithin("users", "*")).toBe(true);
  });
});

describe("subscriber tokens", () => {
  const request = { topics: ["users"], ops: ["subscribe" as const], ttlSeconds: 60 };

  it("round-trips claims", async () => {
    const { token, claims } = await mintToken(request, key, SECRET);
    const checked = await checkToken(token, SECRET);
    expect(checked).toEqual({ ok: true, claims });
    expect(claims).toMatchObject({ kid: "backend", topics: ["users"], ops: ["subscribe"] });
  });

  it("says expired for an expired token", async () => {
    const { token } = await mintToken(request, key, SECRET, Date.now() - 120_000);
    expect(await checkToken(token, SECRET)).toMatchObject({ ok: false, code: "token_expired" });
  });

  it("refuses a changed claim, a changed signature, another secret and alg none", async () => {
    const { token } = await mintToken(request, key, SECRET);
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const widened = `${header}.${b64url(JSON.stringify({ ...claims, topics: ["*"] }))}.${signature}`;
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith("A") ? "B" : "A"}A`;
    const none = `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${payload}.`;
    for (const bad of [widened, flipped, none, "not-a-token", `${token}x`]) {
      expect(await checkToken(bad, SECRET)).toMatchObject({ ok: false, code: "unauthorized" });
    }
    expect(await checkToken(token, `${SECRET}-other`)).toMatchObject({ ok: false, code: "unauthorized" });
  });

  it("says unauthorized, not expired, for a forged expired token", async () => {
    const { token } = await mintToken(request, key, "another-secret-entirely-0123456789", Date.now() - 120_000);
    expect(await checkToken(token, SECRET)).toMatchObject({ ok: false, code: "unauthorized" });
  });
});

describe("token secret rotation", () => {
  const request = { topics: ["users"], ops: ["subscribe" as const], ttlSeconds: 60 };
  const OLD = { id: "2026-06", secret: "o".repeat(40) };
  const NEW = { id: "2026-12", secret: "n".repeat(40) };
  const list = (...secrets: { id: string; secret: string }[]) => JSON.stringify(secrets);
  const headerOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());

  it("signs with the first listed secret and names it in the header", async () => {
    const { token } = await mintToken(request, key, list(NEW, OLD));
    expect(headerOf(token)).toEqual({ alg: "HS256", typ: "JWT", kid: NEW.id });
    expect(await checkToken(token, list(NEW, OLD))).toMatchObject({ ok: true });
    expect(await checkToken(token, list(NEW))).toMatchObject({ ok: true });
  });

  it("keeps verifying tokens of an older secret while it is listed, and refuses them once it is not", async () => {
    const { token } = await mintToken(request, key, list(OLD));
    expect(await checkToken(token, list(NEW, OLD))).toMatchObject({ ok: true });
    expect(await checkToken(token, list(NEW))).toEqual({
      ok: false,
      code: "unauthorized",
      message: "the token was signed by a secret this deployment no longer has",
    });
  });

  it("a token from a single unlisted secret keeps working when that secret joins a list", async () => {
    const { token } = await mintToken(request, key, SECRET);
    expect(headerOf(token).kid).toBe("default");
    expect(await checkToken(token, list(NEW, { id: "default", secret: SECRET }))).toMatchObject({ ok: true });
  });

  it("refuses a header naming a secret whose signature does not match", async () => {
    const { token } = await mintToken(request, key, list({ id: NEW.id, secret: "f".repeat(40) }));
    expect(await checkToken(token, list(NEW, OLD))).toMatchObject({ ok: false, code: "unauthorized" });
  });

  it("treats a broken list as a deployment error, never as no secret", async () => {
    await expect(mintToken(request, key, "[not json")).rejects.toThrow(/not a valid JSON list/);
    await expect(mintToken(request, key, list({ id: "short", secret: "x" }))).rejects.toThrow(/at least 32/);
    await expect(mintToken(request, key, list(NEW, NEW))).rejects.toThrow(/unique/);
    await expect(mintToken(request, key, "[]")).rejects.toThrow(/at least one/);
  });
});
