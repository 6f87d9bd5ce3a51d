import * as v from "valibot";

/**
 * An event catalog: each known event type and the valibot schema of its `data`, declared once by
 * the app. The Worker checks published payloads against it, the SDKs take their types from it,
 * and `GET /v1/schemas` exports it as JSON Schema.
 */
export type Catalog = { readonly [type: string]: v.GenericSchema };

/** No catalog: every event type is untyped (the default type parameter of the SDKs). */
export type EmptyCatalog = Record<never, never>;

/** An event type name: what CloudEvents allows in `type`, kept printable and short. */
const TYPE_NAME = /^[\x21-\x7e]{1,200}$/;

/**
 * Declares an app's catalog. It returns the catalog as given, with its exact type, so the server
 * (`createMesh`, `defineConsumer`) and the browser (`createMeshClient<typeof catalog>`) share it.
 * A bad declaration is a programming error: it throws when the module loads.
 */
export function defineCatalog<const C extends Catalog>(catalog: C): C {
  for (const [type, schema] of Object.entries(catalog)) {
    if (!TYPE_NAME.test(type)) throw new Error(`catalog type "${type}" must be 1-200 printable characters`);
    if (typeof schema !== "object" || schema === null || schema.kind !== "schema") {
      throw new Error(`catalog type "${type}" needs a valibot schema for its data`);
    }
  }
  return catalog;
}

/** The event type names of a catalog. */
export type CatalogType<C extends Catalog> = keyof C & string;

/** The `data` of a catalog event type, as its schema outputs it. */
export type EventData<C extends Catalog, T extends CatalogType<C>> = v.InferOutput<C[T]>;

export function isCatalogType<C extends Catalog>(catalog: C, type: string): type is CatalogType<C> {
  return Object.hasOwn(catalog, type);
}

export type DataCheck =
  | { ok: true }
  | { ok: false; code: "schema_mismatch" | "unknown_event_type"; message: string; issues?: DataIssue[] };

export interface DataIssue {
  path: string;
  message: string;
}

/** Checks an event's `data` against the catalog; types outside it follow the deployment's policy. */
export function checkData(catalog: Catalog, type: string, data: unknown, unknownTypes: "accept" | "reject"): DataCheck {
  if (!isCatalogType(catalog, type)) {
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
