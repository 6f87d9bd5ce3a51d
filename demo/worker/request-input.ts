import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import { DemoError } from "./errors.ts";

/** Demo request bodies are a few fields: anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 4096;

export const limitBody: MiddlewareHandler = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new DemoError("body_too_large", `a demo request body is at most ${MAX_BODY_BYTES} bytes`, {
      limit: MAX_BODY_BYTES,
    });
  },
});

const issuePath = (issue: v.BaseIssue<unknown>) => issue.path?.map((p) => String(p.key)).join(".") ?? "";

/**
 * Reads a JSON body with a schema. The first issue is the `invalid_body` message and names its
 * `field`; every issue is listed too, so a form can mark each field.
 */
export async function readBody<T extends v.GenericSchema>(request: Request, schema: T): Promise<v.InferOutput<T>> {
  const media = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (media !== "application/json") {
    throw new DemoError(
      "unsupported_media_type",
      `content type "${media || "(none)"}" is not supported: use application/json`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(await request.text());
  } catch (err) {
    throw new DemoError("malformed_json", `the body is not valid JSON: ${(err as Error).message}`);
  }
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issues = result.issues.map((issue) => ({ path: issuePath(issue), message: issue.message }));
  const { path: field, message } = issues[0];
  throw new DemoError("invalid_body", message, field ? { field, issues } : { issues });
}

/** Reads a URL's query with a schema; the first issue is the `invalid_query` message and names its `param`. */
export function readQuery<T extends v.GenericSchema>(url: string, schema: T): v.InferOutput<T> {
  const result = v.safeParse(schema, Object.fromEntries(new URL(url).searchParams));
  if (result.success) return result.output;
  const issue = result.issues[0];
  const param = issuePath(issue);
  throw new DemoError("invalid_query", issue.message, param ? { param } : {});
}
