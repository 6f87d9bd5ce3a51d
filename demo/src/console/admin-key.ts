import type { TokenSource } from "../../client/index.ts";
import type { TokenResponse } from "../../protocol/auth.ts";

const ADMIN_KEY_STORAGE = "event-mesh:admin-key";

/** Only the console acts with the admin key; the signup page uses the demo's minted tokens. */
let adminPage = false;

export function actAsAdmin(): void {
  adminPage = true;
}

/**
 * The console's admin key: taken once from the link `npm start` prints (`#key=…`, then removed
 * from the address bar) and kept in this browser's localStorage.
 */
export function adminKey(): string | null {
  if (!adminPage) return null;
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

/** A fresh subscriber token for one topic from the demo's backend (GET /demo/token). */
export async function demoToken(topic: string): Promise<string> {
  const res = await fetch(`/demo/token?topic=${encodeURIComponent(topic)}`);
  if (!res.ok) throw new Error(`no token for ${topic}: HTTP ${res.status}`);
  return ((await res.json()) as TokenResponse).token;
}

/**
 * How a page proves it may read `topic`: the admin key on the console, otherwise a token minted by
 * the demo backend, fetched again on every reconnect.
 */
export function topicCredential(topic: string): TokenSource {
  return adminKey() ?? (() => demoToken(topic));
}
