import { describe, expect, it } from "vitest";
import { CLOSE, closeCodeForError, isTerminalCloseCode } from "../../protocol/close-codes.ts";

describe("close codes for refusals", () => {
  it("maps the named refusals to their own codes", () => {
    expect(closeCodeForError("invalid_topic")).toBe(CLOSE.invalidTopic);
    expect(closeCodeForError("token_expired")).toBe(CLOSE.tokenExpired);
    expect(closeCodeForError("rate_limited")).toBe(CLOSE.tryAgainLater);
  });

  it("makes any other 4xx refusal terminal and server failures retryable", () => {
    for (const code of ["not_found", "method_not_allowed", "upgrade_required", "invalid_body"]) {
      expect(isTerminalCloseCode(closeCodeForError(code)), code).toBe(true);
    }
    for (const code of ["internal", "auth_not_configured", "something_else"]) {
      expect(isTerminalCloseCode(closeCodeForError(code)), code).toBe(false);
    }
  });
});
