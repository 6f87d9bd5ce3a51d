import { defineCatalog } from "event-mesh/client";
import * as v from "valibot";

/**
 * The demo's event catalog. The mesh checks every published event of these types against it, the
 * Notification Service's handler gets its `data` typed by it, and the pages type their live
 * events with it. (`defineCatalog` comes from `event-mesh/client` because the pages import this
 * module too: that entry never pulls the server into the pages.)
 */
export const catalog = defineCatalog({
  UserRegistered: v.object({
    userId: v.pipe(v.string(), v.nonEmpty("userId must not be empty")),
    name: v.pipe(
      v.string("name is required"),
      v.trim(),
      v.minLength(1, "name is required"),
      v.maxLength(100, "name is at most 100 characters"),
    ),
    email: v.pipe(v.string("email is required"), v.email("email must be a valid address"), v.maxLength(254)),
  }),
  WelcomeEmailSent: v.object({
    userId: v.pipe(v.string(), v.nonEmpty()),
    email: v.pipe(v.string(), v.email()),
    emailId: v.pipe(v.string(), v.nonEmpty()),
    subject: v.string(),
  }),
  /** An attempt of the Notification Service failed and will be retried (or dead-lettered): makes retries visible live. */
  NotificationAttemptFailed: v.object({
    userId: v.pipe(v.string(), v.nonEmpty()),
    attempt: v.pipe(v.number(), v.integer(), v.minValue(1)),
    error: v.string(),
  }),
});

export type DemoCatalog = typeof catalog;
