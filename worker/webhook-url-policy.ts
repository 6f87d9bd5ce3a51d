/**
 * Which URLs a webhook subscription may target. The schema only checks that the URL is absolute;
 * this is the one place that decides what the mesh is willing to call, so refusing private and
 * loopback addresses outside local development belongs here.
 */
export type WebhookUrlCheck = { ok: true } | { ok: false; message: string };

export function checkWebhookUrl(raw: string): WebhookUrlCheck {
  const url = new URL(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, message: `webhook url must use http or https, not ${url.protocol.replace(/:$/, "")}` };
  }
  if (url.username || url.password) {
    return { ok: false, message: "webhook url must not carry credentials; the signature authenticates the mesh" };
  }
  return { ok: true };
}
