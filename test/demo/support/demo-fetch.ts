import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { OPERATOR_AUTH } from "../../support/demo-credentials.ts";

const ORIGIN = "http://demo.test";

/** One browser of the demo: its signed visitor cookie goes with every request. */
export interface Visitor {
  /** The visitor id inside the cookie (its value before the signature). */
  id: string;
  cookie: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A JSON request; the body, when given, is sent as application/json. */
  send(method: string, path: string, body?: unknown): Promise<Response>;
}

/** The demo Worker itself (exports.default), at a test origin. */
export function demoFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`${ORIGIN}${path}`, init);
}

/** A request with the operator's admin key. */
export function operatorFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return demoFetch(path, { ...init, headers: { ...OPERATOR_AUTH, ...init.headers } });
}

/** A visitor's first contact (GET /demo/me) hands out the cookie that names it from then on. */
export async function newVisitor(): Promise<Visitor> {
  const res = await demoFetch("/demo/me");
  expect(res.status).toBe(200);
  const setCookie = res.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0];
  const id = decodeURIComponent(cookie.slice("visitor=".length)).split(".")[0];
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const fetchAs = (path: string, init: RequestInit = {}) =>
    demoFetch(path, { ...init, headers: { ...init.headers, cookie } });
  return {
    id,
    cookie,
    fetch: fetchAs,
    send: (method, path, body) =>
      fetchAs(path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      }),
  };
}

/** The refusal body, after checking its status and code. */
export async function refusal(
  res: Response,
  status: number,
  code: string,
): Promise<{ code: string; message: string; [detail: string]: unknown }> {
  expect(res.status).toBe(status);
  const body = await res.json<{ error: { code: string; message: string } }>();
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

let n = 0;
/** A fresh address per call, so tests sharing the one user database never collide. */
export const uniqueEmail = (name: string) => `${name}.${Date.now()}.${++n}@example.com`;
