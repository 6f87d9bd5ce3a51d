import * as v from "valibot";
import { MeshError } from "../runtime/mesh-error.ts";

function issuePath(issue: v.BaseIssue<unknown>): string {
  return issue.path?.map((p) => String(p.key)).join(".") ?? "";
}

/** The message, led by its path unless it already starts with the field's name. */
function named(path: string, message: string): string {
  const field = path.split(".").pop() ?? "";
  return path && !message.startsWith(field) ? `${path}: ${message}` : message;
}

/**
 * Reads a request body with a protocol schema. The first issue becomes the `invalid_body` message
 * and names its `field`; every issue is listed too, for forms that mark each field.
 */
export function parseBody<T extends v.GenericSchema>(schema: T, value: unknown): v.InferOutput<T> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issues = result.issues.map((issue) => ({ path: issuePath(issue), message: issue.message }));
  const { path: field, message } = issues[0];
  throw new MeshError("invalid_body", named(field, message), field ? { field, issues } : { issues });
}

/** Reads a URL's query with a protocol schema; the first issue becomes an `invalid_query` refusal naming its param. */
export function parseQuery<T extends v.GenericSchema>(schema: T, url: string): v.InferOutput<T> {
  const result = v.safeParse(schema, Object.fromEntries(new URL(url).searchParams));
  if (result.success) return result.output;
  const issue = result.issues[0];
  const param = issuePath(issue);
  throw new MeshError("invalid_query", named(param, issue.message), param ? { param } : {});
}
