import { readFileSync, rmSync, writeFileSync } from "node:fs";

/**
 * A copy of wrangler.toml beside it (paths in it stay valid) with other rate limits: far higher for
 * load scenarios that would otherwise meet the 2,000-per-10-s limits of a single test client
 * address, or tiny ones to see them refuse. Named `wrangler.*-test.toml`, which git ignores.
 */
export function configWithRateLimits(
  tag: string,
  perKey: number,
  perAddress = perKey,
): { path: string; remove: () => void } {
  const path = `wrangler.${tag}-${process.pid}-test.toml`;
  const original = readFileSync("wrangler.toml", "utf8");
  const changed = original
    .replace(/(name = "KEY_RATE_LIMITER"[\s\S]*?limit = )\d+/, `$1${perKey}`)
    .replace(/(name = "ADDRESS_RATE_LIMITER"[\s\S]*?limit = )\d+/, `$1${perAddress}`);
  if (changed === original) throw new Error("wrangler.toml has no rate limits to change");
  writeFileSync(path, changed);
  return { path, remove: () => rmSync(path, { force: true }) };
}
