import * as v from "valibot";
import { type KeyConfig, KeysConfigSchema } from "../../protocol/auth.ts";

const encoder = new TextEncoder();

/** Reads the MESH_KEYS secret (a JSON array of keys). A broken secret is a deployment error, never "no auth". */
export function parseKeys(raw: string | undefined): KeyConfig[] {
  if (raw === undefined || raw.trim() === "") return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error("MESH_KEYS is not valid JSON");
  }
  const result = v.safeParse(KeysConfigSchema, value);
  if (!result.success) throw new Error(`MESH_KEYS is invalid: ${result.issues[0].message}`);
  return result.output;
}

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/**
 * Finds the key whose secret equals `presented`. Secrets are compared as SHA-256 digests with a
 * constant-time comparison, and every key is compared, so timing says nothing about the secrets.
 */
export async function findKey(keys: KeyConfig[], presented: string): Promise<KeyConfig | null> {
  const presentedDigest = await digest(presented);
  let found: KeyConfig | null = null;
  for (const key of keys) {
    const equal = crypto.subtle.timingSafeEqual(presentedDigest, await digest(key.secret));
    if (equal && found === null) found = key;
  }
  return found;
}
