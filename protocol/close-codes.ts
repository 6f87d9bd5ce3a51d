import { ERROR_STATUS, isErrorCode } from "./error-codes.ts";

/**
 * WebSocket close codes the server sends; `CLOSE_MEANINGS` says what each means and what a client
 * does on it. Terminal codes mean "reconnecting the same way cannot help": the client stops and
 * reports. Everything else is retried with backoff.
 */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  internalError: 1011,
  tryAgainLater: 1013,
  badRequest: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  invalidTopic: 4404,
  cursorAhead: 4409,
  tokenExpired: 4440,
} as const;

/** Each close code's meaning, as data: the AsyncAPI description of the socket lists them from here. */
export const CLOSE_MEANINGS: { readonly [name in keyof typeof CLOSE]: string } = {
  normal: "Normal close asked for by either side.",
  goingAway: "The server is going away (deploy, restart): reconnect.",
  internalError: "Unexpected server failure: reconnect.",
  tryAgainLater:
    "The subscriber fell too far behind (a slow reader) or was rate limited: reconnect and resume from its cursor.",
  badRequest: "The request was malformed (bad after, types or epoch) or refused for good. Terminal.",
  unauthorized: "No valid credential, or its token was revoked while the socket was open. Terminal: get a token first.",
  forbidden: "The credential does not allow this topic or operation. Terminal.",
  invalidTopic: "The topic name breaks the naming rule. Terminal.",
  cursorAhead: "The client's cursor is beyond the topic's head (log reset or wrong topic). Terminal.",
  tokenExpired:
    "The token expired, at connect or on the open socket without an in-band refresh: a client with a token provider fetches a fresh one and reconnects.",
};

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** The close code that goes with a refusal's error code, so an error frame and its close agree. */
export function closeCodeForError(code: string): number {
  switch (code) {
    case "invalid_query":
      return CLOSE.badRequest;
    case "invalid_topic":
      return CLOSE.invalidTopic;
    case "cursor_ahead":
      return CLOSE.cursorAhead;
    case "unauthorized":
    case "token_revoked":
      return CLOSE.unauthorized;
    case "forbidden":
      return CLOSE.forbidden;
    case "token_expired":
      return CLOSE.tokenExpired;
    case "rate_limited":
    case "too_many_connections":
    case "overloaded":
      return CLOSE.tryAgainLater;
    default:
      // Any other refusal of the request itself (a 4xx: no such route, wrong method) cannot succeed
      // by retrying; server-side failures (5xx) may.
      return isErrorCode(code) && ERROR_STATUS[code] < 500 ? CLOSE.badRequest : CLOSE.internalError;
  }
}

/** 1008 (policy violation) and 4000–4499 stop reconnection; 4500–4999 and 1xxx are retryable. */
export function isTerminalCloseCode(code: number): boolean {
  return code === 1008 || (code >= 4000 && code <= 4499);
}
