import { toJsonSchema } from "@valibot/to-json-schema";
import type { Handler } from "hono";
import type { CatalogSchemas } from "../../protocol/responses.ts";
import type { AppEnv } from "../app-env.ts";

/** `GET /v1/schemas`: the app's event catalog as JSON Schema, one entry per event type. */
export const catalogSchemas: Handler<AppEnv> = (c) => {
  const types = Object.fromEntries(
    Object.entries(c.get("mesh").catalog).map(([type, schema]) => [
      type,
      toJsonSchema(schema, { errorMode: "ignore" }),
    ]),
  );
  const body: CatalogSchemas = { types };
  return c.json(body);
};
