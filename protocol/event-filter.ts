import * as v from "valibot";

/**
 * Filters of the CloudEvents Subscriptions API (section 3.2.4): the six mandatory dialects over an
 * event's context attributes. A list of filters is ANDed; a list that is absent or empty lets every
 * event through. Live subscriptions (`filter`) and durable ones (`filters`) share this one shape.
 */

/** Bounds of one list of filters, so evaluating it stays cheap per event and per socket. */
export const FILTER_LIMITS = {
  /** Levels of `all` / `any` / `not` nesting, the outermost filter counting as 1. */
  maxDepth: 8,
  /** Filter expressions in the whole list, nested ones included. */
  maxExpressions: 64,
  /** Attributes one `exact` / `prefix` / `suffix` names. */
  maxAttributes: 16,
  /** Characters of a value compared with an attribute. */
  maxValueLength: 200,
  /** Characters of an attribute name. */
  maxNameLength: 64,
} as const;

/** One filter expression: exactly one dialect. */
export interface EventFilter {
  exact?: Record<string, string>;
  prefix?: Record<string, string>;
  suffix?: Record<string, string>;
  all?: EventFilter[];
  any?: EventFilter[];
  not?: EventFilter;
}

const DIALECTS = ["exact", "prefix", "suffix", "all", "any", "not"] as const;

/** `data` and `data_base64` carry the payload, not context: a filter sees attributes only. */
const AttributeNameSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9]+$/, "an attribute name is lower-case letters and digits (CloudEvents naming)"),
  v.maxLength(FILTER_LIMITS.maxNameLength, `an attribute name is at most ${FILTER_LIMITS.maxNameLength} characters`),
  v.check((name) => name !== "data", "data is the payload, not a context attribute: filters see attributes only"),
);

const AttributeValuesSchema = v.pipe(
  v.record(
    AttributeNameSchema,
    v.pipe(
      v.string("an attribute value in a filter is a string"),
      v.nonEmpty("an attribute value in a filter must not be empty"),
      v.maxLength(FILTER_LIMITS.maxValueLength, `a value is at most ${FILTER_LIMITS.maxValueLength} characters`),
    ),
    "exact, prefix and suffix take an object of attribute names to string values",
  ),
  v.minEntries(1, "exact, prefix and suffix name at least one attribute"),
  v.maxEntries(
    FILTER_LIMITS.maxAttributes,
    `exact, prefix and suffix name at most ${FILTER_LIMITS.maxAttributes} attributes`,
  ),
);

const nestedList = (dialect: "all" | "any") =>
  v.pipe(
    v.array(
      v.lazy(() => EventFilterSchema),
      `${dialect} takes an array of filters`,
    ),
    v.nonEmpty(`${dialect} holds at least one filter`),
  );

/** One filter expression, e.g. `{ "prefix": { "type": "com.example." } }`. */
export const EventFilterSchema: v.GenericSchema<EventFilter> = v.pipe(
  v.strictObject(
    {
      exact: v.optional(AttributeValuesSchema),
      prefix: v.optional(AttributeValuesSchema),
      suffix: v.optional(AttributeValuesSchema),
      all: v.optional(nestedList("all")),
      any: v.optional(nestedList("any")),
      not: v.optional(v.lazy(() => EventFilterSchema)),
    },
    `a filter is an object with one dialect: ${DIALECTS.join(", ")}`,
  ),
  v.check(
    (filter) => Object.keys(filter).length === 1,
    `a filter holds exactly one dialect (${DIALECTS.join(", ")}); combine several with all`,
  ),
  v.description(
    "A CloudEvents Subscriptions API filter: exactly one of exact, prefix, suffix (attribute name to string), all, any (arrays of filters) or not (one filter).",
  ),
) as v.GenericSchema<EventFilter>;

/** A list of filters, all of which must match (the Subscriptions API's `filters`). */
export const EventFilterListSchema = v.pipe(
  v.array(EventFilterSchema, "filters are an array of filter objects"),
  v.description(
    `Filters that must all match (CloudEvents Subscriptions API). At most ${FILTER_LIMITS.maxExpressions} expressions in all, nested ${FILTER_LIMITS.maxDepth} levels deep at most.`,
  ),
);

/**
 * The list with its bounds checked first: a bounded walk refuses a list too deep or too large
 * before the structural check recurses into it (which a deeply nested input would overflow).
 */
export const EventFiltersSchema = v.lazy((input: unknown) => {
  const problem = boundsProblem(input);
  return problem === null ? EventFilterListSchema : refusal(problem);
});

/** A schema that refuses anything with `message`, typed as the list so the lazy schema infers the list. */
function refusal(message: string) {
  return v.pipe(
    v.unknown(),
    v.check(() => false, message),
  ) as unknown as typeof EventFilterListSchema;
}

/** What makes `input` (an array of filters, or not yet checked) too large; null when within bounds. */
function boundsProblem(input: unknown): string | null {
  if (!Array.isArray(input)) return null;
  let expressions = 0;
  const visit = (node: unknown, depth: number): string | null => {
    if (depth > FILTER_LIMITS.maxDepth) return `filters nest at most ${FILTER_LIMITS.maxDepth} levels (all, any, not)`;
    expressions += 1;
    if (expressions > FILTER_LIMITS.maxExpressions) {
      return `filters hold at most ${FILTER_LIMITS.maxExpressions} expressions in all`;
    }
    if (typeof node !== "object" || node === null) return null;
    const { all, any, not } = node as Record<string, unknown>;
    for (const list of [all, any]) {
      if (!Array.isArray(list)) continue;
      for (const child of list) {
        const problem = visit(child, depth + 1);
        if (problem) return problem;
      }
    }
    return not === undefined ? null : visit(not, depth + 1);
  };
  for (const filter of input) {
    const problem = visit(filter, 1);
    if (problem) return problem;
  }
  return null;
}

/** An event as filters see it: its context attributes by name (other members are ignored). */
export type FilterableEvent = Readonly<Record<string, unknown>>;
export type EventPredicate = (event: FilterableEvent) => boolean;

/**
 * An attribute's value as a string, the form CloudEvents compares in; undefined when the event
 * lacks it. Extension attributes may be numbers or booleans: they compare as their canonical text.
 */
function attribute(event: FilterableEvent, name: string): string | undefined {
  if (!Object.hasOwn(event, name)) return undefined;
  const value = event[name];
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

type Compare = (actual: string, wanted: string) => boolean;
const COMPARE: Record<"exact" | "prefix" | "suffix", Compare> = {
  exact: (actual, wanted) => actual === wanted,
  prefix: (actual, wanted) => actual.startsWith(wanted),
  suffix: (actual, wanted) => actual.endsWith(wanted),
};

function compileOne(filter: EventFilter): EventPredicate {
  for (const dialect of ["exact", "prefix", "suffix"] as const) {
    const values = filter[dialect];
    if (!values) continue;
    const compare = COMPARE[dialect];
    const pairs = Object.entries(values);
    // A missing attribute matches no value: `exact`, `prefix` and `suffix` all fail on it.
    return (event) =>
      pairs.every(([name, wanted]) => {
        const actual = attribute(event, name);
        return actual !== undefined && compare(actual, wanted);
      });
  }
  if (filter.all) {
    const parts = filter.all.map(compileOne);
    return (event) => parts.every((part) => part(event));
  }
  if (filter.any) {
    const parts = filter.any.map(compileOne);
    return (event) => parts.some((part) => part(event));
  }
  if (filter.not) {
    const inner = compileOne(filter.not);
    return (event) => !inner(event);
  }
  return () => true;
}

/**
 * A predicate for a checked list of filters: compiled once into closures, so an event costs one
 * pass over its attributes per expression and nothing is parsed again per event.
 */
export function compileFilters(filters: readonly EventFilter[]): EventPredicate {
  const parts = filters.map(compileOne);
  if (parts.length === 0) return () => true;
  if (parts.length === 1) return parts[0] as EventPredicate;
  return (event) => parts.every((part) => part(event));
}
