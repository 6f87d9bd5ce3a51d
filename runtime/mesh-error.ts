import { ERROR_STATUS, type ErrorBody, type ErrorCode } from "../protocol/error-codes.ts";
import { logError } from "./log.ts";

/** The one error type of the Worker: a stable code, a human message and optional details. */
export class MeshError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "MeshError";
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

/** How long an overloaded answer asks clients to wait. */
export const OVERLOAD_RETRY_SECONDS = 5;

/**
 * Any thrown value as the one error type. The runtime marks a Durable Object that cannot keep up
 * with `overloaded` (and one that is being reset with `retryable`): clients can act on those, so
 * they become 503 with Retry-After instead of a bare 500. Anything else is a 500 that hides
 * internals (and is logged).
 */
export function toMeshError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  const flags = (typeof err === "object" && err !== null ? err : {}) as { overloaded?: unknown; retryable?: unknown };
  if (flags.overloaded === true || flags.retryable === true) {
    return new MeshError(
      "overloaded",
      `the topic is busy or restarting; retry after ${OVERLOAD_RETRY_SECONDS} s`,
      { retryAfterSeconds: OVERLOAD_RETRY_SECONDS },
      { "retry-after": String(OVERLOAD_RETRY_SECONDS) },
    );
  }
  logError("unhandled error", { error: String(err) });
  return new MeshError("internal", "internal error");
}

/** Turns any thrown value into the JSON refusal. */
export function errorResponse(err: unknown): Response {
  const meshError = toMeshError(err);
  return new Response(JSON.stringify(meshError.toBody()), {
    status: meshError.status,
    headers: { "content-type": "application/json; charset=utf-8", ...meshError.headers },
  });
}
