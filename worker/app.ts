import { type Context, type Handler, Hono } from "hono";
import type { Catalog } from "../protocol/catalog.ts";
import type { JsonObject } from "../protocol/json.ts";
import { errorResponse, MeshError, toMeshError } from "../runtime/mesh-error.ts";
import { refuseSocket } from "../runtime/socket-refusal.ts";
import { asyncApiDocument } from "./api-docs/asyncapi-document.ts";
import { openApiDocument } from "./api-docs/openapi-document.ts";
import type { AppEnv, MeshSetup } from "./app-env.ts";
import { corsPolicy } from "./auth/cors-policy.ts";
import { routeGuard } from "./auth/route-guard.ts";
import { allowedMethods, type RouteDef } from "./routes/route-def.ts";
import { ROUTES } from "./routes/route-table.ts";

/**
 * The mesh's HTTP API as a hono app, built from the route table: each declared route gets its
 * access checks, middleware and handler; any other method on a declared path gets a 405 naming
 * the allowed ones; anything else a 404.
 */
export function createApp(options: { catalog: Catalog }, routes: readonly RouteDef[] = ROUTES): Hono<AppEnv> {
  const setup: MeshSetup = { catalog: options.catalog, descriptions: describe(routes, options.catalog) };
  const app = new Hono<AppEnv>();
  app.use("/v1/*", corsPolicy(), async (c, next) => {
    c.set("mesh", setup);
    await next();
  });
  for (const route of routes) {
    const chain = [...routeGuard(route.path, route.access), ...(route.middleware ?? []), route.handler];
    app.on(route.method, route.path, ...(chain as [Handler<AppEnv>]));
  }
  for (const [path, methods] of allowedMethods(routes)) {
    app.all(path, (c) => {
      throw new MeshError(
        "method_not_allowed",
        `${c.req.method} is not allowed on ${path}; use ${methods.join(" or ")}`,
        { allow: methods },
        { allow: methods.join(", ") },
      );
    });
  }
  // A WebSocket client cannot read an HTTP status, only a close code: upgrades are refused on the socket.
  const refuse = (err: unknown, c: Context<AppEnv>) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return errorResponse(err);
    const refusal = toMeshError(err);
    const retryAfter = refusal.details.retryAfterSeconds;
    return refuseSocket(refusal.code, refusal.message, typeof retryAfter === "number" ? retryAfter : undefined);
  };
  app.notFound((c) =>
    refuse(new MeshError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), c),
  );
  app.onError(refuse);
  return app;
}

/**
 * The app's API descriptions, generated on first use and kept: its routes and catalog never change
 * at run time, and converting every schema takes milliseconds a second request need not pay.
 */
function describe(routes: readonly RouteDef[], catalog: Catalog): MeshSetup["descriptions"] {
  let openApi: JsonObject | undefined;
  let asyncApi: JsonObject | undefined;
  return {
    openApi: () => (openApi ??= openApiDocument(routes, catalog) as unknown as JsonObject),
    asyncApi: () => (asyncApi ??= asyncApiDocument(catalog) as unknown as JsonObject),
  };
}
