import * as v from "valibot";

/**
 * The event catalog: each known event type and the schema of its `data`, declared once. The
 * Worker checks published payloads against it, the SDKs take their types from it, and
 * `GET /v1/schemas` exports it as JSON Schema.
 */
export const catalog = {
  UserRegistered: v.object({
    userId: v.pipe(v.string(), v.nonEmpty("userId must not be empty")),
    name: v.pipe(
      v.string(),
      v.trim(),
      v.minLength(1, "name is required"),
      v.maxLength(100, "name is at most 100 characters"),
    ),
    email: v.pipe(v.string(), v.email("email must be a valid address"), v.maxLength(254)),
  }),
  WelcomeEmailSent: v.object({
    userId: v.pipe(v.string(), v.nonEmpty()),
    email: v.pipe(v.string(), v.email()),
    emailId: v.pipe(v.string(), v.nonEmpty()),
    subject: v.string(),
  }),
  /** A consumer's attempt failed and will be retried (or dead-lettered): makes retries visible live. */
  NotificationAttemptFailed: v.object({
    userId: v.pipe(v.string(), v.nonEmpty()),
    attempt: v.pipe(v.number(), v.integer(), v.minValue(1)),
    error: v.string(),
  }),
} as const;

export type Catalog = typeof catalog;
export type CatalogType = keyof Catalog;
/** The `data` of a catalog event type. */
export type EventData<T extends CatalogType> = v.InferOutput<Catalog[T]>;

export function isCatalogType(type: string): type is CatalogType {
  return Object.hasOwn(catalog, type);
}

export type DataCheck =
  | { ok: true }
  | { ok: false; code: "schema_mismatch" | "unknown_event_type"; message: string; issues?: DataIssue[] };

export interface DataIssue {
  path: string;
  message: string;
}

/** Checks an event's `data` against the catalog; unknown types follow the deployment's policy. */
export function checkData(type: string, data: unknown, unknownTypes: "accept" | "reject"): DataCheck {
  if (!isCatalogType(type)) {
    return unknownTypes === "accept"
      ? { ok: true }
      : { ok: false, code: "unknown_event_type", message: `event type "${type}" is not in the catalog` };
  }
  const result = v.safeParse(catalog[type], data);
  if (result.success) return { ok: true };
  return {
    ok: false,
    code: "schema_mismatch",
    message: `data does not match the schema of ${type}: ${result.issues[0].message}`,
    issues: result.issues.map((i) => ({
      path: i.path?.map((p) => String(p.key)).join(".") ?? "",
      message: i.message,
    })),
  };
}
