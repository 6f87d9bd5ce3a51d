import type { Mesh } from "event-mesh";
import { type Context, type Handler, Hono } from "hono";
import type { DemoApp } from "./app-env.ts";
import { DemoError, refusal } from "./errors.ts";
import { meshLink } from "./mesh-link.ts";
import { allowedMethods, DEMO_ROUTES } from "./routes.ts";
import { visitorCookie } from "./visitor-cookie.ts";

/**
 * The demo's Worker: its own routes under `/demo/`, built from the route table, and everything
 * else (the API under `/v1/`, WebSockets included) to the mesh's `fetch`.
 */
export function createDemoApp(meshFetch: Mesh["fetch"]): Hono<DemoApp> {
  const app = new Hono<DemoApp>();
  app.use("/demo/*", visitorCookie, async (c, next) => {
    c.set("mesh", meshLink(meshFetch, c.env, workerContext(c), c.req.header("cf-connecting-ip")));
    await next();
  });
  for (const route of DEMO_ROUTES) {
    app.on(route.method, route.path, ...([...(route.middleware ?? []), route.handler] as [Handler<DemoApp>]));
  }
  for (const [path, methods] of allowedMethods()) {
    app.all(path, (c) => {
      throw new DemoError(
        "method_not_allowed",
        `${c.req.method} is not allowed on ${path}; use ${methods.join(" or ")}`,
        { allow: methods },
        { allow: methods.join(", ") },
      );
    });
  }
  app.all("/demo/*", (c) => {
    throw new DemoError("not_found", `no demo route for ${c.req.method} ${new URL(c.req.url).pathname}`);
  });
  app.all("*", (c) => meshFetch(c.req.raw, c.env, workerContext(c)));
  // c.json keeps the headers set before the error, such as a new visitor's cookie.
  app.onError((err, c) => {
    const { status, body, headers } = refusal(err);
    return c.json(body, status, headers);
  });
  return app;
}

/**
 * The Worker's ExecutionContext the app was called with. hono types it with only the members it
 * uses itself; the object is the Worker's own, which the mesh's `fetch` takes.
 */
function workerContext(c: Context<DemoApp>): ExecutionContext {
  return c.executionCtx as ExecutionContext;
}
