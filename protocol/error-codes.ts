import * as v from "valibot";

/**
 * Every refusal the mesh gives, by stable code, with its HTTP status. The body of a refusal is
 * `{ error: { code, message, ...details } }`; clients branch on `code`, never on `message`.
 */
export const ERROR_STATUS = {
  malformed_json: 400,
  invalid_envelope: 400,
  invalid_topic: 400,
  invalid_query: 400,
  invalid_body: 400,
  unsupported_media_type: 415,
  event_too_large: 413,
  batch_too_large: 413,
  body_too_large: 413,
  schema_mismatch: 422,
  unknown_event_type: 422,
  cursor_expired: 410,
  cursor_ahead: 409,
  unknown_queue: 422,
  invalid_subscription_name: 400,
  webhook_url_not_allowed: 422,
  not_found: 404,
  subscription_not_found: 404,
  dead_letter_not_found: 404,
  method_not_allowed: 405,
  upgrade_required: 426,
  key_in_url: 400,
  unauthorized: 401,
  token_expired: 401,
  token_revoked: 401,
  forbidden: 403,
  no_subject: 403,
  not_entered: 409,
  rate_limited: 429,
  too_many_connections: 429,
  too_many_subscriptions: 429,
  overloaded: 503,
  auth_not_configured: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * The JSON body of a refusal with one of `codes`: a stable `code`, a human `message` and the
 * code's details (`attribute`, `index`, `issues`, `oldest`, …) beside them.
 */
export function errorBodySchema<const C extends ErrorCode>(codes: readonly C[]) {
  return v.pipe(
    v.object({ error: v.looseObject({ code: v.picklist(codes), message: v.string() }) }),
    v.description("A refusal: branch on error.code, never on error.message."),
  );
}

/** The JSON body of every refusal. */
export const ErrorBodySchema = errorBodySchema(Object.keys(ERROR_STATUS) as ErrorCode[]);
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}
