import { type ErrorCode, isErrorCode } from "../protocol/error-codes.ts";

/** `network_error`: no answer at all; `http_error`: an answer that is not the mesh's JSON. */
export type PublishErrorCode = ErrorCode | "network_error" | "http_error";

/** A refused or failed publish. Branch on `code`; `details` holds the server's extra fields. */
export class PublishError extends Error {
  override readonly name = "PublishError";

  constructor(
    readonly code: PublishErrorCode,
    message: string,
    /** HTTP status, or null when no answer came. */
    readonly status: number | null,
    readonly details: Record<string, unknown>,
    /** Attempts made before giving up. */
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** The error of a refusal: the mesh's code and details when the body is the mesh's JSON, else `http_error`. */
export function toPublishError(status: number, text: string, attempts: number): PublishError {
  try {
    const { error } = JSON.parse(text) as { error: { code: unknown; message: unknown } & Record<string, unknown> };
    const { code, message, ...details } = error;
    if (isErrorCode(code)) return new PublishError(code, String(message), status, details, attempts);
  } catch {
    // Not the mesh's JSON: a proxy or load balancer answered.
  }
  return new PublishError("http_error", `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`, status, {}, attempts);
}
