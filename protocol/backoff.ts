/** Exponential backoff with full jitter, shared by the publisher SDK, the client and delivery. */
export interface BackoffPolicy {
  /** Delay ceiling of the first retry, in milliseconds. */
  firstDelayMs: number;
  /** No delay is ever longer than this, in milliseconds. */
  maxDelayMs: number;
  /** Growth per attempt; 2 doubles the ceiling each time. */
  factor?: number;
}

/** The ceiling of the delay before retry number `attempt` (1-based), without jitter. */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  const factor = policy.factor ?? 2;
  const exp = Math.max(0, attempt - 1);
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * factor ** exp);
}

/**
 * Full jitter (a uniform draw in [0, ceiling]) spreads retries of many clients apart instead of
 * letting them hit a recovering server in waves.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, policy));
}
