/** Structured logs: one JSON line per event of interest, so logs can be searched by field. */
export function logLine(msg: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ msg, at: new Date().toISOString(), ...fields }));
}
