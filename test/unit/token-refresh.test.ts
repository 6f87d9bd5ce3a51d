import { describe, expect, it } from "vitest";
import { refreshDelayMs, tokenExpiresAt } from "../../client/token-refresh.ts";
import type { TokenClaims } from "../../protocol/auth.ts";
import { checkRefresh, socketCredential } from "../../protocol/socket-credential.ts";
import { mintToken } from "../../runtime/tokens.ts";
import { KEYS, TOKEN_SECRET } from "../support/credentials.ts";

const claims = (extra: Partial<TokenClaims> = {}): TokenClaims => ({
  jti: "t1",
  iat: 1_000,
  exp: 1_300,
  kid: "k",
  topics: ["orders.*"],
  ops: ["subscribe", "history"],
  sub: "u-1",
  ...extra,
});

describe("when the client refreshes a token", () => {
  it("reads exp from a minted token, and nothing from a key or a malformed one", async () => {
    const { token, claims: minted } = await mintToken(
      { topics: ["a"], ops: ["subscribe"], ttlSeconds: 60 },
      KEYS.admin,
      TOKEN_SECRET,
    );
    expect(tokenExpiresAt(token)).toBe(minted.exp * 1000);
    for (const other of [KEYS.admin.secret, "a.b", "a.!!!.c", `a.${btoa('{"exp":"soon"}')}.c`, "a.b.c.d"]) {
      expect(tokenExpiresAt(other), other).toBeUndefined();
    }
  });

  it("refreshes a fifth of the remaining life early, between 1 and 60 seconds before expiry", () => {
    expect(refreshDelayMs(10_000, 0)).toBe(8_000);
    expect(refreshDelayMs(3_000, 0)).toBe(2_000);
    expect(refreshDelayMs(3_600_000, 0)).toBe(3_540_000);
    expect(refreshDelayMs(500, 0)).toBe(0);
    expect(refreshDelayMs(0, 1_000)).toBe(0);
  });
});

describe("which fresh token may replace a socket's", () => {
  const current = socketCredential(claims());

  it("takes one as narrow or narrower, for the same subject, and keeps its expiry", () => {
    for (const next of [
      claims({ jti: "t2", exp: 2_000 }),
      claims({ topics: ["orders.eu"], ops: ["subscribe"] }),
      claims({ topics: ["orders.*", "orders.eu"] }),
    ]) {
      expect(checkRefresh(current, next, ["orders.eu"])).toEqual({ ok: true, credential: socketCredential(next) });
    }
    expect(socketCredential(claims({ exp: 2_000 })).expiresAt).toBe(2_000_000);
  });

  it("refuses one that is wider, for another subject or topic, or without subscribe, naming why", () => {
    const cases: [Partial<TokenClaims>, RegExp][] = [
      [{ topics: ["*"] }, /beyond/],
      [{ topics: ["orders.*", "users"] }, /"users"/],
      [{ topics: ["users"] }, /does not allow subscribe/],
      [{ ops: ["history"] }, /does not allow subscribe/],
      [{ sub: "u-2" }, /another subject/],
      [{ sub: undefined }, /another subject/],
    ];
    for (const [extra, message] of cases) {
      const result = checkRefresh(current, claims(extra), ["orders.eu"]);
      expect(result, JSON.stringify(extra)).toEqual({
        ok: false,
        code: "forbidden",
        message: expect.stringMatching(message),
      });
    }
    const several = checkRefresh(current, claims({ topics: ["orders.eu"] }), ["orders.eu", "orders.us"]);
    expect(several).toMatchObject({ ok: false, message: /topic "orders.us"/ });
    const historyOnly = socketCredential(claims({ ops: ["subscribe"] }));
    expect(checkRefresh(historyOnly, claims(), ["orders.eu"])).toMatchObject({ ok: false, message: /more operations/ });
  });
});
