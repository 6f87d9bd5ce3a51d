import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every refusal of the demo's routes, by stable code, with its HTTP status. The body is the mesh's
 * error shape, `{ error: { code, message, ...details } }`: clients branch on `code`.
 */
export const DEMO_ERROR_STATUS = {
  malformed_json: 400,
  invalid_body: 400,
  invalid_query: 400,
  unsupported_media_type: 415,
  body_too_large: 413,
  not_found: 404,
  method_not_allowed: 405,
  /** The address was registered from another browser; nothing about that user is said. */
  email_taken: 409,
  /** No user with that id was registered from this browser (whether or not another has one). */
  user_not_found: 404,
  /** The mesh's rate limits, which count the visitor's address, refused a call made for this visitor. */
  rate_limited: 429,
  /** The mesh refused a call of the demo's backend: a bug or a misconfigured key, never the visitor's fault. */
  mesh_refused: 502,
  not_configured: 503,
  internal: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type DemoErrorCode = keyof typeof DEMO_ERROR_STATUS;

/** The one error type of the demo's routes: thrown anywhere, turned into the refusal in one place. */
export class DemoError extends Error {
  override readonly name = "DemoError";

  constructor(
    readonly code: DemoErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): ContentfulStatusCode {
    return DEMO_ERROR_STATUS[this.code];
  }
}

/** The refusal for any thrown value; anything but a DemoError is a 500 that hides internals. */
export function refusal(err: unknown): {
  status: ContentfulStatusCode;
  body: { error: { code: DemoErrorCode; message: string; [detail: string]: unknown } };
  headers: Record<string, string>;
} {
  const error = err instanceof DemoError ? err : new DemoError("internal", "internal error");
  if (!(err instanceof DemoError)) console.error(JSON.stringify({ msg: "demo route failed", error: String(err) }));
  return {
    status: error.status,
    body: { error: { ...error.details, code: error.code, message: error.message } },
    headers: error.headers,
  };
}
