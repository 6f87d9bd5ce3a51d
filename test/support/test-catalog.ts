import * as v from "valibot";
import { defineCatalog } from "../../protocol/catalog.ts";

/**
 * The core tests' own event catalog, as an app would declare one: the mesh knows nothing of these
 * types, and the demo's catalog can change without touching a core test.
 */
export const testCatalog = defineCatalog({
  MemberJoined: v.object({
    userId: v.pipe(v.string(), v.nonEmpty("userId must not be empty")),
    name: v.pipe(
      v.string(),
      v.trim(),
      v.minLength(1, "name is required"),
      v.maxLength(100, "name is at most 100 characters"),
    ),
    email: v.pipe(v.string(), v.email("email must be a valid address"), v.maxLength(254)),
  }),
  GreetingSent: v.object({
    userId: v.pipe(v.string(), v.nonEmpty()),
    email: v.pipe(v.string(), v.email()),
    emailId: v.pipe(v.string(), v.nonEmpty()),
    subject: v.string(),
  }),
  AttemptFailed: v.object({
    userId: v.pipe(v.string(), v.nonEmpty()),
    attempt: v.pipe(v.number(), v.integer(), v.minValue(1)),
    error: v.string(),
  }),
});

export type TestCatalog = typeof testCatalog;
