import * as v from "valibot";

/**
 * Topic names: 1–128 characters from `A–Z a–z 0–9 . _ - :`, starting with a letter or digit.
 * The rule keeps names safe in URL paths, Durable Object names and log lines without escaping.
 */
export const TOPIC_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const TOPIC_NAME_RULE = "1-128 characters from A-Z a-z 0-9 . _ - :, starting with a letter or digit";

export function isValidTopicName(name: string): boolean {
  return TOPIC_NAME_PATTERN.test(name);
}

export const TopicNameSchema = v.pipe(v.string(), v.regex(TOPIC_NAME_PATTERN, TOPIC_NAME_RULE));
