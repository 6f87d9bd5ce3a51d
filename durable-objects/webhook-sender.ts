/**
 * Webhook delivery signed by the Standard Webhooks scheme: `webhook-id` (the same on every retry of
 * a delivery, so a receiver can drop repeats), `webhook-timestamp` (seconds, fresh per attempt, so a
 * receiver can refuse replays) and `webhook-signature: v1,<base64 HMAC-SHA256>` of
 * `${id}.${timestamp}.${body}`, keyed by the base64-decoded part of the `whsec_` secret. While a
 * rotated secret is still valid, the header carries one signature per secret, space-separated, as
 * the scheme allows: a receiver with either secret verifies.
 */

export type SendResult = { ok: true } | { ok: false; error: string };

export interface WebhookRequest {
  url: string;
  /** The current secret first, then any that is being retired. */
  secrets: readonly string[];
  timeoutMs: number;
  id: string;
  body: string;
  /** Headers besides the signature ones (e.g. `traceparent`). */
  headers?: Record<string, string>;
}

/** How much of a refusing receiver's answer is kept in `lastError`. */
const ERROR_BODY_CHARS = 200;

function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A new `whsec_` secret: 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** Imported signing keys by secret: a catching-up subscription signs hundreds of requests a second. */
const keys = new Map<string, Promise<CryptoKey>>();
/** Secrets whose keys are kept at most (two per webhook while a rotated one still signs). */
const MAX_KEYS = 64;

function signingKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = crypto.subtle.importKey(
      "raw",
      base64ToBytes(secret.replace(/^whsec_/, "")),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    keys.set(secret, key);
    key.catch(() => keys.delete(secret));
  }
  return key;
}

/** The `webhook-signature` value for one attempt. */
export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = await signingKey(secret);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/**
 * POSTs one signed delivery. Only a 2xx answer is success; redirects are not followed (a moved
 * endpoint must be updated in the subscription), and the reason of any failure is kept readable.
 */
export async function sendWebhook(request: WebhookRequest, now: number = Date.now()): Promise<SendResult> {
  const timestamp = Math.floor(now / 1000);
  const signatures = await Promise.all(
    request.secrets.map((secret) => signWebhook(secret, request.id, timestamp, request.body)),
  );
  const signature = signatures.join(" ");
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(request.timeoutMs),
      headers: {
        ...request.headers,
        "content-type": "application/json",
        "user-agent": "event-mesh-webhooks/1",
        "webhook-id": request.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signature,
      },
      body: request.body,
    });
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === "TimeoutError" || name === "AbortError") {
      return { ok: false, error: `timed out after ${request.timeoutMs} ms` };
    }
    return { ok: false, error: `network error: ${(err as Error)?.message ?? String(err)}` };
  }
  if (response.status >= 200 && response.status < 300) {
    await response.body?.cancel();
    return { ok: true };
  }
  const text = await response.text().catch(() => "");
  const excerpt = text.trim().slice(0, ERROR_BODY_CHARS);
  const redirect = response.status >= 300 && response.status < 400 ? " (redirects are not followed)" : "";
  return {
    ok: false,
    error: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${redirect}${excerpt ? `: ${excerpt}` : ""}`,
  };
}
