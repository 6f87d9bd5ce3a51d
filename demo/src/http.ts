/** A refusal of the demo's backend or the mesh, with its stable code and field issues if any. */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** The error body both the demo's routes and the mesh answer with. */
interface RefusalBody {
  error?: { code?: string; message?: string; issues?: { path: string; message: string }[] };
}

/**
 * Calls the Worker (same origin; the visitor cookie goes along by itself) and answers the parsed
 * JSON body, or throws an ApiError built from the `{ error: { code, message } }` refusal. A
 * `credential` goes as `Authorization: Bearer`; a network failure becomes code "network".
 */
export async function requestJson<T>(
  path: string,
  init: { method?: string; body?: unknown; credential?: string | null } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.credential) headers.authorization = `Bearer ${init.credential}`;
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
    const error = (body as RefusalBody | null)?.error;
    const issues = Array.isArray(error?.issues) ? error.issues : [];
    throw new ApiError(res.status, error?.code ?? "http_error", error?.message ?? `HTTP ${res.status}`, issues);
  }
  return body as T;
}

/** The message to show for any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
