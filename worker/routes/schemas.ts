import { toJsonSchema } from "@valibot/to-json-schema";
import type { Hono } from "hono";
import { catalog } from "../../protocol/catalog.ts";
import type { AppEnv } from "../env.ts";

/** `GET /v1/schemas`: the event catalog as JSON Schema, one entry per event type. */
export function schemaRoutes(app: Hono<AppEnv>): void {
  app.get("/v1/schemas", (c) => {
    const types = Object.fromEntries(
      Object.entries(catalog).map(([type, schema]) => [type, toJsonSchema(schema, { errorMode: "ignore" })]),
    );
    return c.json({ types });
  });
}
