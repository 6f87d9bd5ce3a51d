import type { ErrorBody } from "../../protocol/error-codes.ts";
import { adminKey } from "./credentials.ts";

/** A refusal of the mesh or the demo backend, with its stable code and field issues if any. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * Calls the Worker (same origin) with the admin key when this browser has one (the console), or
 * the given credential and returns the parsed JSON body, or throws an ApiError built
 * from the mesh's `{ error: { code, message } }` refusal. A network failure becomes code "network".
 */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; credential?: string | null } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const credential = init.credential === undefined ? adminKey() : init.credential;
  if (credential) headers.authorization = `Bearer ${credential}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiError(0, "network", "the server cannot be reached; is it running?");
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (!res.ok) {
    const error = (body as ErrorBody | null)?.error;
    const issues = Array.isArray(error?.issues) ? (error.issues as { path: string; message: string }[]) : [];
    throw new ApiError(res.status, error?.code ?? "http_error", error?.message ?? `HTTP ${res.status}`, issues);
  }
  return body as T;
}

/** The message to show for any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
