import type { Handler } from "hono";
import type { AppEnv } from "../app-env.ts";

/** `GET /v1/openapi.json`: the HTTP API of this deployment, served from the origin it was asked on. */
export const openApiJson: Handler<AppEnv> = (c) => {
  const document = c.get("mesh").descriptions.openApi();
  return c.json({ ...document, servers: [{ url: new URL(c.req.url).origin }] });
};

/** `GET /v1/asyncapi.json`: the topic WebSocket of this deployment, on the host it was asked on. */
export const asyncApiJson: Handler<AppEnv> = (c) => {
  const document = c.get("mesh").descriptions.asyncApi();
  const url = new URL(c.req.url);
  const server = {
    host: url.host,
    protocol: url.protocol === "https:" ? "wss" : "ws",
    security: [{ $ref: "#/components/securitySchemes/queryToken" }, { $ref: "#/components/securitySchemes/bearer" }],
  };
  return c.json({ ...document, servers: { mesh: server } });
};
