import type { Handler } from "hono";
import type { Catalog } from "../../protocol/catalog.ts";
import { type AsyncApiDocument, asyncApiDocument } from "../api-docs/asyncapi-document.ts";
import { type OpenApiDocument, openApiDocument } from "../api-docs/openapi-document.ts";
import type { AppEnv } from "../app-env.ts";
import type { RouteDef } from "./route-table.ts";

/**
 * Generated once per isolate for each app (its routes and catalog never change at run time): the
 * conversion of every schema takes milliseconds, which a request for a description need not pay
 * twice.
 */
const openApiDocuments = new WeakMap<readonly RouteDef[], WeakMap<Catalog, OpenApiDocument>>();
const asyncApiDocuments = new WeakMap<Catalog, AsyncApiDocument>();

function cachedOpenApi(routes: readonly RouteDef[], catalog: Catalog): OpenApiDocument {
  const byCatalog = openApiDocuments.get(routes) ?? new WeakMap<Catalog, OpenApiDocument>();
  openApiDocuments.set(routes, byCatalog);
  const document = byCatalog.get(catalog) ?? openApiDocument(routes, catalog);
  byCatalog.set(catalog, document);
  return document;
}

/** `GET /v1/openapi.json`: the HTTP API of this deployment, served from the origin it was asked on. */
export const openApiJson: Handler<AppEnv> = (c) => {
  const document = cachedOpenApi(c.get("routes"), c.get("mesh").catalog);
  return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin }] });
};

/** `GET /v1/asyncapi.json`: the topic WebSocket of this deployment, on the host it was asked on. */
export const asyncApiJson: Handler<AppEnv> = (c) => {
  const catalog = c.get("mesh").catalog;
  const document = asyncApiDocuments.get(catalog) ?? asyncApiDocument(catalog);
  asyncApiDocuments.set(catalog, document);
  const url = new URL(c.req.url);
  const server = {
    host: url.host,
    protocol: url.protocol === "https:" ? "wss" : "ws",
    security: [{ $ref: "#/components/securitySchemes/queryToken" }, { $ref: "#/components/securitySchemes/bearer" }],
  };
  return c.json({ ...document, servers: { mesh: server } });
};
