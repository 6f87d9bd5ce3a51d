import type { LogMessage } from "./log-lines.ts";

function write(out: (line: string) => void, msg: string, fields: Record<string, unknown>): void {
  out(JSON.stringify({ msg, at: new Date().toISOString(), ...fields }));
}

/** Structured logs: one JSON line per event of interest, each named in `LOG_LINES`, so logs can be searched by field. */
export function logLine(msg: LogMessage, fields: Record<string, unknown> = {}): void {
  write(console.log, msg, fields);
}

/** The same, on the error stream, for what should not happen. */
export function logError(msg: LogMessage, fields: Record<string, unknown> = {}): void {
  write(console.error, msg, fields);
}

/** A line an app's own code writes (a queue consumer's `ctx.log`): its message is the app's. */
export function appLogLine(msg: string, fields: Record<string, unknown> = {}): void {
  write(console.log, msg, fields);
}
