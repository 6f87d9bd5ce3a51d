import { type ConversionConfig, type JsonSchema, toJsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import type * as v from "valibot";
import type { Catalog } from "../../protocol/catalog.ts";

/**
 * Pipeline checks JSON Schema has no word for (cross-field rules, custom predicates such as the
 * webhook secret's length). They are left out of the description; their messages still name them.
 */
const UNEXPRESSED_ACTIONS = ["check", "raw_check"];

/** The JSON Schema dialect of a document: OpenAPI 3.1 uses 2020-12, AsyncAPI 3.0 draft-07. */
export type Dialect = "draft-2020-12" | "draft-07";

/** Component names are `[A-Za-z0-9._-]+` in both formats; catalog type names may hold more. */
function catalogComponentName(type: string, taken: ReadonlySet<string>): string {
  const base = `EventData.${type.replace(/[^A-Za-z0-9._-]/g, "_")}`;
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  return name;
}

/**
 * The valibot schemas of one API document as JSON Schema. Named schemas become
 * `components/schemas/<name>`, with `$ref`s between them, and `of` gives a `$ref` for a named
 * schema; any other schema is converted in place, whole (a named schema inside it is not turned
 * into a `$ref`: converting against every component each time cost about 300 ms per document).
 * Schemas describe the wire, so pipelines are converted up to their first transformation
 * (`typeMode: "input"`): a query parameter is the string that arrives, not the number it becomes.
 *
 * The mesh's own schemas must convert fully (a rule JSON Schema cannot state, other than the
 * checks above, throws, so the description never silently loses it); the app's catalog converts
 * as far as it can, as `GET /v1/schemas` does, under `EventData.<type>`.
 */
export class DocumentSchemas {
  /** `components.schemas` of the document. */
  readonly components: Record<string, JsonSchema>;
  /** The component name of each catalog type's data schema. */
  readonly catalogNames: ReadonlyMap<string, string>;
  private readonly names = new Map<v.GenericSchema, string>();
  private readonly config: ConversionConfig;

  constructor(named: Record<string, v.GenericSchema>, catalog: Catalog, dialect: Dialect) {
    this.config = {
      target: dialect,
      typeMode: "input",
      ignoreActions: UNEXPRESSED_ACTIONS,
      overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
    };
    const catalogNames = new Map<string, string>();
    const taken = new Set(Object.keys(named));
    const catalogNamed: Record<string, v.GenericSchema> = {};
    for (const [type, schema] of Object.entries(catalog)) {
      const name = catalogComponentName(type, taken);
      taken.add(name);
      catalogNames.set(type, name);
      catalogNamed[name] = schema;
    }
    this.catalogNames = catalogNames;
    this.components = {
      ...toJsonSchemaDefs(named, this.config),
      ...toJsonSchemaDefs(catalogNamed, { ...this.config, errorMode: "ignore" }),
    };
    for (const [name, schema] of Object.entries(named)) this.names.set(schema, name);
  }

  /** `schema` as JSON Schema in this document: a `$ref` to its component when it has one. */
  of(schema: v.GenericSchema): JsonSchema {
    const name = this.names.get(schema);
    if (name !== undefined) return { $ref: `#/components/schemas/${name}` };
    const { $schema: _dialect, ...inPlace } = toJsonSchema(schema, this.config);
    return inPlace;
  }
}
