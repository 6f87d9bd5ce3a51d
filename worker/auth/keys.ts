import * as v from "valibot";
import { type KeyConfig, KeysConfigSchema } from "../../protocol/auth.ts";

const encoder = new TextEncoder();

/** The last MESH_KEYS read, parsed, with each secret's digest: the secret rarely changes per isolate. */
let cached: { raw: string; keys: KeyConfig[]; digests: Promise<ArrayBuffer[]> } | null = null;

/** Reads the MESH_KEYS secret (a JSON array of keys). A broken secret is a deployment error, never "no auth". */
export function parseKeys(raw: string | undefined): KeyConfig[] {
  if (raw === undefined || raw.trim() === "") return [];
  if (cached?.raw === raw) return cached.keys;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error("MESH_KEYS is not valid JSON");
  }
  const result = v.safeParse(KeysConfigSchema, value);
  if (!result.success) throw new Error(`MESH_KEYS is invalid: ${result.issues[0].message}`);
  const keys = result.output;
  cached = { raw, keys, digests: Promise.all(keys.map((key) => digest(key.secret))) };
  return keys;
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
  const digests = cached?.keys === keys ? await cached.digests : await Promise.all(keys.map((k) => digest(k.secret)));
  let found: KeyConfig | null = null;
  keys.forEach((key, i) => {
    const equal = crypto.subtle.timingSafeEqual(presentedDigest, digests[i]);
    if (equal && found === null) found = key;
  });
  return found;
}
