import { isPrivateHost } from "./private-address.ts";

/**
 * Which URLs a webhook subscription may target: the one place that decides what the mesh is
 * willing to call. Private, loopback and link-local addresses are refused unless their host is in
 * the deployment's allow list (WEBHOOK_ALLOWED_HOSTS), so a subscription cannot be aimed at the
 * network around the mesh. Only literal addresses and local-only names can be judged here: a
 * public name that resolves to a private address is not detected (Workers have no DNS lookup).
 */
export type WebhookUrlCheck = { ok: true } | { ok: false; message: string };

export function checkWebhookUrl(raw: string, allowedHosts: readonly string[] = []): WebhookUrlCheck {
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, message: `webhook url must use http or https, not ${url.protocol.replace(/:$/, "")}` };
  }
  if (url.username || url.password) {
    return { ok: false, message: "webhook url must not carry credentials; the signature authenticates the mesh" };
  }
  const host = normalizeHost(url.hostname);
  if (isPrivateHost(host) && !allowedHosts.includes(host)) {
    return {
      ok: false,
      message: `webhook url host ${host} is not a public address (private, loopback, link-local, reserved or local-only); add it to WEBHOOK_ALLOWED_HOSTS to allow it`,
    };
  }
  return { ok: true };
}

/** Parses the comma-separated WEBHOOK_ALLOWED_HOSTS var. */
export function allowedWebhookHosts(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((h) => normalizeHost(h.trim()))
    .filter((h) => h.length > 0);
}

/** A host as compared with the allow list: lower case, no brackets, no trailing dot. */
function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.+$/, "");
}
