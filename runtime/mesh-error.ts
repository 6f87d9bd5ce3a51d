import { ERROR_STATUS, type ErrorBody, type ErrorCode } from "../protocol/error-codes.ts";

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

/** Turns any thrown value into the JSON refusal; unknown errors become a 500 that hides internals. */
export function errorResponse(err: unknown): Response {
  const meshError = err instanceof MeshError ? err : new MeshError("internal", "internal error");
  if (!(err instanceof MeshError)) console.error(JSON.stringify({ msg: "unhandled error", error: String(err) }));
  return new Response(JSON.stringify(meshError.toBody()), {
    status: meshError.status,
    headers: { "content-type": "application/json; charset=utf-8", ...meshError.headers },
  });
}
