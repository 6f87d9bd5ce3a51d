import type { Env } from "event-mesh";
import { DemoError } from "./errors.ts";

/** The demo's own secrets (besides the mesh's MESH_KEYS and MESH_TOKEN_SECRET), never in wrangler.toml. */
export interface DemoSecrets {
  /** The User Service's mesh key: topics ["users"], ops publish, history, admin (listed in MESH_KEYS). */
  DEMO_USERS_KEY?: string;
  /** The Notification Service's mesh key: topics ["notifications.*"], ops publish, mint (listed in MESH_KEYS). */
  DEMO_NOTIFICATIONS_KEY?: string;
  /** Signs the visitor cookie. */
  DEMO_COOKIE_SECRET?: string;
}

/** The demo Worker's environment: its wrangler.toml's bindings (`wrangler types`), the mesh's secrets and its own. */
export type DemoEnv = Env & DemoSecrets;

/** A secret the demo cannot work without; a missing one is a clear 503, not a crash. */
export function requireSecret(env: DemoEnv, name: keyof DemoSecrets): string {
  const value = env[name];
  if (!value) throw new DemoError("not_configured", `the demo is not configured: ${name} is unset`);
  return value;
}
