import { describe, expect, it } from "vitest";
import { KEY_OPERATIONS, type KeyConfig, type Operation } from "../../protocol/auth.ts";
import { CLOSE } from "../../protocol/close-codes.ts";
import { openLiveSocket } from "../../worker/routes/live.ts";
import type { RouteDef } from "../../worker/routes/route-def.ts";
import { ROUTES } from "../../worker/routes/route-table.ts";
import { KEYS } from "../support/credentials.ts";
import { appFetch } from "./support/app-fetch.ts";
import { collect } from "./support/socket.ts";

/**
 * Every route of the route table, driven by the table itself: a route added there is tested here
 * without a line more. Each non-public route refuses a missing and a wrong credential (401
 * `unauthorized`) and a valid key that lacks the route's operation (403 `forbidden`); the
 * WebSocket route refuses on the socket (close 4401 / 4403), where a browser can read it.
 */

/** The routes anyone may call. Another branch adds GET /v1/openapi.json and GET /v1/asyncapi.json. */
const PUBLIC_ROUTES = ["GET /v1/schemas", "GET /v1/openapi.json", "GET /v1/asyncapi.json"];

const TOPIC = "secure.routes";
/** A value for each path parameter; a route with another parameter fails here until it gets one. */
const PARAMS: Record<string, string> = { topic: TOPIC, name: "sneaky", id: "queue:test-mailer:1" };

/** For each operation, a valid key on every topic with every operation but that one. */
const LACKING = Object.fromEntries(
  KEY_OPERATIONS.map((op): [Operation, KeyConfig] => [
    op,
    {
      id: `lacks-${op}`,
      secret: `sk_test_lacks_${op}_0123456789abcdef0123456789`,
      topics: ["*"],
      ops: KEY_OPERATIONS.filter((other) => other !== op),
    },
  ]),
) as Record<Operation, KeyConfig>;
const vars = { MESH_KEYS: JSON.stringify([...Object.values(KEYS), ...Object.values(LACKING)]) };
const WRONG_KEY = "sk_not_a_key_0123456789abcdef0123456789";

const label = (route: RouteDef) => `${route.method} ${route.path}`;
const isPublic = (route: RouteDef) => "public" in route.access;
const isSocket = (route: RouteDef) => route.handler === openLiveSocket;

function pathOf(route: RouteDef): string {
  return route.path.replace(/:(\w+)/g, (_, name: string) => {
    const value = PARAMS[name];
    if (value === undefined) throw new Error(`no value for :${name} of ${label(route)}`);
    return encodeURIComponent(value);
  });
}

function call(route: RouteDef, secret: string | null): Promise<Response> {
  const headers = new Headers(isSocket(route) ? { upgrade: "websocket" } : {});
  if (secret !== null) headers.set("authorization", `Bearer ${secret}`);
  const body = route.method === "POST" || route.method === "PUT" ? "{}" : undefined;
  if (body) headers.set("content-type", "application/json");
  return appFetch(new Request(`http://mesh${pathOf(route)}`, { method: route.method, headers, body }), vars);
}

/** A refusal as its caller sees it: HTTP status and error code, or the socket's close code and error frame. */
async function refusal(route: RouteDef, res: Response): Promise<{ status: number; code: unknown }> {
  if (!isSocket(route))
    return { status: res.status, code: ((await res.json()) as { error?: { code?: string } }).error?.code };
  const socket = collect(res);
  const { code } = await socket.closed;
  const frame = socket.frames[0];
  return { status: code, code: frame?.type === "error" ? frame.code : frame?.type };
}

it("has exactly the expected public routes", () => {
  expect(ROUTES.filter(isPublic).map(label)).toEqual(PUBLIC_ROUTES);
});

it.each(ROUTES.filter(isPublic).map((route) => [label(route), route] as const))(
  "%s answers without a credential",
  async (_, route) => {
    expect((await call(route, null)).status).toBe(200);
  },
);

describe.each(ROUTES.filter((route) => !isPublic(route)).map((route) => [label(route), route] as const))(
  "%s",
  (_, route) => {
    const unauthorized = { status: isSocket(route) ? CLOSE.unauthorized : 401, code: "unauthorized" };
    const forbidden = { status: isSocket(route) ? CLOSE.forbidden : 403, code: "forbidden" };
    const op = "op" in route.access ? route.access.op : undefined;

    it("refuses a missing credential", async () => {
      expect(await refusal(route, await call(route, null))).toEqual(unauthorized);
    });

    it("refuses a wrong credential", async () => {
      expect(await refusal(route, await call(route, WRONG_KEY))).toEqual(unauthorized);
    });

    it(`refuses a valid key without ${op}`, async () => {
      if (op === undefined) throw new Error(`${label(route)} is neither public nor names an operation`);
      expect(await refusal(route, await call(route, LACKING[op].secret))).toEqual(forbidden);
    });
  },
);

it("stored nothing on any refusal", async () => {
  const admin = { authorization: `Bearer ${KEYS.admin.secret}` };
  const info = await appFetch(new Request(`http://mesh/v1/topics/${TOPIC}`, { headers: admin }), vars);
  expect(await info.json()).toMatchObject({ head: 0 });
  const sub = await appFetch(
    new Request(`http://mesh/v1/topics/${TOPIC}/subscriptions/sneaky`, { headers: admin }),
    vars,
  );
  expect(sub.status).toBe(404);
});
