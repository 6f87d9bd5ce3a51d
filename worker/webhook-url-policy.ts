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
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (isPrivateHost(host) && !allowedHosts.includes(host)) {
    return {
      ok: false,
      message: `webhook url host ${host} is a private, loopback or link-local address; add it to WEBHOOK_ALLOWED_HOSTS to allow it`,
    };
  }
  return { ok: true };
}

/** Parses the comma-separated WEBHOOK_ALLOWED_HOSTS var. */
export function allowedWebhookHosts(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((h) =>
      h
        .trim()
        .toLowerCase()
        .replace(/^\[|\]$/g, ""),
    )
    .filter((h) => h.length > 0);
}

function isPrivateHost(host: string): boolean {
  if (host === "localhost" || /\.(localhost|local|internal|lan|home\.arpa)$/.test(host)) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (host.includes(":")) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped) return isPrivateHost(mapped[1]);
    return (
      host === "::1" ||
      host === "::" ||
      /^f[cd][0-9a-f]{2}:/.test(host) ||
      /^fe[89ab][0-9a-f]:/.test(host) ||
      /^::ffff:/.test(host)
    );
  }
  return false;
}
