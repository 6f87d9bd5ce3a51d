import type { TokenRequest } from "../../protocol/auth.ts";
import { mintToken } from "../../runtime/tokens.ts";
import { KEYS, TOKEN_SECRET } from "./credentials.ts";

/**
 * A subscriber token for `topics`, signed here with the test secret as `POST /v1/tokens` would:
 * what a WebSocket URL may carry (keys never travel in URLs). With `subject`, its holder can enter
 * topics' presence as that member.
 */
export async function subscriberToken(
  topics: string[] = ["*"],
  ttlSeconds = 3600,
  ops: TokenRequest["ops"] = ["subscribe", "history"],
  subject?: string,
): Promise<string> {
  const request = { topics, ops, ttlSeconds, subject };
  return (await mintToken(request, KEYS.admin, TOKEN_SECRET)).token;
}
