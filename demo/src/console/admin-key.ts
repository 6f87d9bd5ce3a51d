import type { TokenResponse } from "event-mesh/client";
import { requestJson } from "../http.ts";

const ADMIN_KEY_STORAGE = "event-mesh:admin-key";

/**
 * The console's admin key: taken once from the link `npm start` prints (`#key=…`, then removed
 * from the address bar) and kept in this browser's localStorage.
 */
export function adminKey(): string | null {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("key");
  if (fromLink) {
    localStorage.setItem(ADMIN_KEY_STORAGE, fromLink);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem(ADMIN_KEY_STORAGE);
}

export function setAdminKey(key: string | null): void {
  if (key) localStorage.setItem(ADMIN_KEY_STORAGE, key);
  else localStorage.removeItem(ADMIN_KEY_STORAGE);
}

/** A call to the mesh's API with the admin key: everything the console reads and does. */
export function adminApi<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  return requestJson<T>(path, { ...init, credential: adminKey() });
}

/**
 * A subscriber token for one topic, minted with the admin key: keys never travel in URLs, and a
 * WebSocket can carry its credential only there. Asked again on every reconnect.
 */
export async function tailToken(topic: string): Promise<string> {
  const minted = await adminApi<TokenResponse>("/v1/tokens", {
    method: "POST",
    body: { topics: [topic], ops: ["subscribe"], ttlSeconds: 600 },
  });
  return minted.token;
}
