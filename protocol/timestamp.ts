import * as v from "valibot";

/** RFC 3339 timestamp, as CloudEvents requires for `time`; rewinds by time take the same. */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 timestamp that is a real date and time (`2026-02-30T…` is refused), kept as the string given. */
export const timestampSchema = (name: string) =>
  v.pipe(
    v.string(`${name} must be a string`),
    v.regex(RFC3339, `${name} must be an RFC 3339 timestamp`),
    v.check((time) => !Number.isNaN(Date.parse(time)), `${name} must be a real date and time`),
  );
