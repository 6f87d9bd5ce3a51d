import type { MiddlewareHandler } from "hono";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
import type { DemoApp } from "./app-env.ts";
import { requireSecret } from "./env.ts";

const COOKIE = "visitor";
const VISITOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A visitor keeps its users, emails and failure switch for a month of not coming back. */
const MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

/**
 * Who is asking: the visitor of the signed `visitor` cookie, or a new visitor (and its cookie)
 * on first contact. The cookie is signed with DEMO_COOKIE_SECRET, so a visitor cannot pose as
 * another by editing it (a bad signature counts as no cookie); it is HttpOnly, so page scripts
 * never see it, and SameSite=Strict, so other sites cannot act with it.
 */
export const visitorCookie: MiddlewareHandler<DemoApp> = async (c, next) => {
  const secret = requireSecret(c.env, "DEMO_COOKIE_SECRET");
  const presented = await getSignedCookie(c, secret, COOKIE);
  let visitor = typeof presented === "string" && VISITOR_ID.test(presented) ? presented : null;
  if (visitor === null) {
    visitor = crypto.randomUUID();
    await setSignedCookie(c, COOKIE, visitor, secret, {
      path: "/demo",
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:",
      maxAge: MAX_AGE_SECONDS,
    });
  }
  c.set("visitor", visitor);
  await next();
};
