// Local secrets for `npm start`: on first run, writes demo/.dev.vars (git-ignored) with random
// keys and secrets, so the demo is secure by default even locally: an operator's all-scope admin
// key, the User Service's and the Notification Service's scoped keys (all three in MESH_KEYS),
// the token secret and the visitor cookie's secret.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const DEV_VARS = "demo/.dev.vars";

const random = (bytes) => randomBytes(bytes).toString("base64url");
const key = (id, topics, ops) => ({ id, secret: `sk_local_${random(24)}`, topics, ops });

/** Creates demo/.dev.vars when missing; returns the operator's admin key found in it (or null if there is none). */
export function ensureDevVars() {
  if (!existsSync(DEV_VARS)) {
    const operator = key("local-admin", ["*"], ["publish", "history", "subscribe", "mint", "admin"]);
    const users = key("demo-users", ["users"], ["publish", "history", "admin"]);
    const notifications = key("demo-notifications", ["notifications.*"], ["publish", "mint"]);
    const lines = [
      "# Written by `npm start` on first run. Local development only; never commit this file.",
      "# On Cloudflare: `wrangler secret put <NAME> -c demo/wrangler.toml` for each of these.",
      `MESH_KEYS='${JSON.stringify([operator, users, notifications])}'`,
      `MESH_TOKEN_SECRET="${random(32)}"`,
      "# The demo's services publish and mint with their own scoped keys (listed in MESH_KEYS above).",
      `DEMO_USERS_KEY="${users.secret}"`,
      `DEMO_NOTIFICATIONS_KEY="${notifications.secret}"`,
      `DEMO_COOKIE_SECRET="${random(32)}"`,
      "# Webhook subscriptions may target receivers on this machine.",
      'WEBHOOK_ALLOWED_HOSTS="127.0.0.1,localhost,::1"',
      "",
    ];
    writeFileSync(DEV_VARS, lines.join("\n"), { mode: 0o600 });
    console.log(`created ${DEV_VARS} with new local keys and secrets`);
  }
  const match = /^MESH_KEYS='(.*)'$/m.exec(readFileSync(DEV_VARS, "utf8"));
  if (!match) return null;
  try {
    const keys = JSON.parse(match[1]);
    return keys.find((k) => k.ops?.includes("admin") && k.topics?.includes("*"))?.secret ?? null;
  } catch {
    return null;
  }
}
