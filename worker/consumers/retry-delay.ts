import { type BackoffPolicy, backoffDelay } from "../../protocol/backoff.ts";
import type { Env } from "../../runtime/env.ts";

/** Queues refuse a delay above 12 hours. */
const QUEUE_MAX_DELAY_SECONDS = 43_200;

export const DEFAULT_QUEUE_RETRY = { firstDelaySeconds: 2, maxDelaySeconds: 300 } as const;

function seconds(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0 || n > QUEUE_MAX_DELAY_SECONDS) {
    throw new Error(`config ${name} must be an integer from 0 to ${QUEUE_MAX_DELAY_SECONDS}, got "${raw}"`);
  }
  return n;
}

/** The retry backoff of queue consumers, from `QUEUE_RETRY_FIRST_DELAY_SECONDS` and `QUEUE_RETRY_MAX_DELAY_SECONDS`. */
export function queueRetryPolicy(env: Partial<Env>): BackoffPolicy {
  const first = seconds(
    env.QUEUE_RETRY_FIRST_DELAY_SECONDS,
    DEFAULT_QUEUE_RETRY.firstDelaySeconds,
    "QUEUE_RETRY_FIRST_DELAY_SECONDS",
  );
  const max = seconds(
    env.QUEUE_RETRY_MAX_DELAY_SECONDS,
    DEFAULT_QUEUE_RETRY.maxDelaySeconds,
    "QUEUE_RETRY_MAX_DELAY_SECONDS",
  );
  return { firstDelayMs: first * 1000, maxDelayMs: max * 1000 };
}

/**
 * The `delaySeconds` of `msg.retry()` after failed attempt number `attempt` (`msg.attempts`):
 * exponential with full jitter, in whole seconds since that is what Queues take.
 */
export function retryDelaySeconds(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.min(QUEUE_MAX_DELAY_SECONDS, Math.ceil(backoffDelay(attempt, policy, random) / 1000));
}
