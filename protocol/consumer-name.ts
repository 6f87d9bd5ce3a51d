/**
 * Consumer names: 1-64 lower-case letters, digits and `-`, starting with a letter. They name a
 * ledger Durable Object and appear in dead-letter ids (`queue:<consumer>:<n>`), so no `:`.
 */
export const CONSUMER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
export const CONSUMER_NAME_RULE = "1-64 characters from a-z 0-9 -, starting with a letter";

export function isValidConsumerName(name: string): boolean {
  return CONSUMER_NAME_PATTERN.test(name);
}
