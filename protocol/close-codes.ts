import { ERROR_STATUS, isErrorCode } from "./error-codes.ts";

/**
 * WebSocket close codes and what a client must do on each. Terminal codes mean "reconnecting the
 * same way cannot help": the client stops and reports. Everything else is retried with backoff.
 */
export const CLOSE = {
  /** Normal close asked for by either side. */
  normal: 1000,
  /** The server is going away (deploy, restart): reconnect. */
  goingAway: 1001,
  /** Unexpected server failure: reconnect. */
  internalError: 1011,
  /** The subscriber fell too far behind (slow reader); reconnect and resume from its cursor. */
  tryAgainLater: 1013,
  /** The request was malformed (bad `after`, bad `types`). Terminal. */
  badRequest: 4400,
  /** No valid credential. Terminal: get a token first. */
  unauthorized: 4401,
  /** The credential does not allow this topic or operation. Terminal. */
  forbidden: 4403,
  /** The topic name breaks the naming rule. Terminal. */
  invalidTopic: 4404,
  /** The client's cursor is beyond the topic's head (log reset or wrong topic). Terminal. */
  cursorAhead: 4409,
  /** The token expired: a client with a token provider fetches a fresh one and reconnects. */
  tokenExpired: 4440,
} as const;

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
      return CLOSE.unauthorized;
    case "forbidden":
      return CLOSE.forbidden;
    case "token_expired":
      return CLOSE.tokenExpired;
    case "rate_limited":
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
