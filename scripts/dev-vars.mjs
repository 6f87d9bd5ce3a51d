// Local secrets for `npm start`: on first run, writes .dev.vars (git-ignored) with a random
// all-scope admin key and a random token secret, so the mesh is secure by default even locally.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const FILE = ".dev.vars";

/** Creates .dev.vars when missing; returns the admin key found in it (or null if there is none). */
export function ensureDevVars() {
  if (!existsSync(FILE)) {
    const admin = {
      id: "local-admin",
      secret: `sk_local_${randomBytes(24).toString("base64url")}`,
      topics: ["*"],
      ops: ["publish", "history", "subscribe", "mint", "admin"],
    };
    const lines = [
      "# Written by `npm start` on first run. Local development only; never commit this file.",
      "# Production: `wrangler secret put MESH_KEYS` and `wrangler secret put MESH_TOKEN_SECRET`.",
      `MESH_KEYS='${JSON.stringify([admin])}'`,
      `MESH_TOKEN_SECRET="${randomBytes(32).toString("base64url")}"`,
      "# Webhook subscriptions may target receivers on this machine.",
      'WEBHOOK_ALLOWED_HOSTS="127.0.0.1,localhost,::1"',
      "",
    ];
    writeFileSync(FILE, lines.join("\n"), { mode: 0o600 });
    console.log(`created ${FILE} with a new local admin key and token secret`);
  }
  const match = /^MESH_KEYS='(.*)'$/m.exec(readFileSync(FILE, "utf8"));
  if (!match) return null;
  try {
    const keys = JSON.parse(match[1]);
    return keys.find((k) => k.ops?.includes("admin"))?.secret ?? null;
  } catch {
    return null;
  }
}
