import * as v from "valibot";
import { catalog } from "./catalog.ts";

/**
 * The shapes of the demo's own HTTP API (`/demo/*`), shared by its Worker, its pages and its
 * tests. Refusals use the mesh's error body, `{ error: { code, message, ...details } }`.
 */

/** The topic every `UserRegistered` event goes to. Only the demo's backend and operators read it. */
export const USERS_TOPIC = "users";
/** The durable subscription that feeds the Notification Service. */
export const NOTIFICATION_SUBSCRIPTION = "notification-service";

/** The topic of one user's notifications: the signup page of the visitor who registered the user follows it. */
export function notificationTopic(userId: string): string {
  return `notifications.${userId}`;
}

/** The error of every Notification Service attempt made while the visitor's failure switch is on. */
export const SWITCH_ERROR = "the notification service is failing (demo failure switch is on)";

/**
 * Body of `POST /demo/users`: the `name` and `email` rules of the `UserRegistered` catalog type,
 * so a form the route accepts always yields an event the log accepts.
 */
export const SignupSchema = v.pipe(
  v.pick(catalog.UserRegistered, ["name", "email"]),
  // One user per address, whatever its case.
  v.transform((input) => ({ ...input, email: input.email.toLowerCase() })),
);
export type Signup = v.InferOutput<typeof SignupSchema>;

/** A user, as the demo shows it to the visitor who registered it. */
export const DemoUserSchema = v.object({
  userId: v.string(),
  name: v.string(),
  email: v.string(),
  /** The business flow this signup started; every event it causes carries it. */
  correlationId: v.string(),
  createdAt: v.string(),
});
export type DemoUser = v.InferOutput<typeof DemoUserSchema>;

/** The stored `UserRegistered` event, as the log keeps it (read back through the history API). */
export const StoredUserRegisteredSchema = v.looseObject({
  id: v.string(),
  source: v.string(),
  type: v.literal("UserRegistered"),
  time: v.string(),
  seq: v.number(),
  correlationid: v.optional(v.string()),
  data: catalog.UserRegistered,
});
export type StoredUserRegistered = v.InferOutput<typeof StoredUserRegisteredSchema>;

/** A user with the event that announced it: where a signup page's flow starts. */
export const RegistrationSchema = v.object({ user: DemoUserSchema, registered: StoredUserRegisteredSchema });
export type Registration = v.InferOutput<typeof RegistrationSchema>;

/**
 * Answer of `POST /demo/users`: 201 with `created: true`, or 200 for an address this visitor
 * already registered. `duplicate` is the log's answer to publishing the same event again.
 */
export const SignupAnswerSchema = v.object({
  ...RegistrationSchema.entries,
  created: v.boolean(),
  duplicate: v.boolean(),
});
export type SignupAnswer = v.InferOutput<typeof SignupAnswerSchema>;

/** Answer of `GET /demo/me`: this visitor's users, newest first, and the newest one's registration. */
export const MeAnswerSchema = v.object({
  users: v.array(DemoUserSchema),
  current: v.nullable(RegistrationSchema),
});
export type MeAnswer = v.InferOutput<typeof MeAnswerSchema>;

/** One welcome email in the Notification Service's outbox (no real mail is sent). */
export const OutboxEmailSchema = v.object({
  emailId: v.string(),
  userId: v.string(),
  to: v.string(),
  subject: v.string(),
  body: v.string(),
  /** Id of the `UserRegistered` event that caused it. */
  causationId: v.string(),
  sentAt: v.string(),
});
export type OutboxEmail = v.InferOutput<typeof OutboxEmailSchema>;

/** Answer of `GET /demo/outbox`: this visitor's sent emails, newest first. */
export const OutboxAnswerSchema = v.object({ emails: v.array(OutboxEmailSchema) });
export type OutboxAnswer = v.InferOutput<typeof OutboxAnswerSchema>;

/** A visitor's failure switch of the Notification Service. */
export const FailureSwitchSchema = v.object({
  failing: v.boolean(),
  /** When the service recovers by itself; null while it fails until switched off. */
  until: v.nullable(v.string()),
});
export type FailureSwitch = v.InferOutput<typeof FailureSwitchSchema>;

/** Body of `PUT /demo/failure-switch`: fail (optionally only for a while) or recover. */
export const FailureSwitchRequestSchema = v.object({
  failing: v.boolean("failing must be true or false"),
  forSeconds: v.optional(
    v.pipe(
      v.number("forSeconds must be a number"),
      v.integer("forSeconds must be an integer"),
      v.minValue(1, "forSeconds is at least 1"),
      v.maxValue(3600, "forSeconds is at most 3600"),
    ),
  ),
});
export type FailureSwitchRequest = v.InferOutput<typeof FailureSwitchRequestSchema>;

/** Query of `GET /demo/token`: the user (of this visitor) whose notification topic the token is for. */
export const TokenQuerySchema = v.object({
  userId: v.pipe(v.string("userId is required"), v.nonEmpty("userId is required"), v.maxLength(64)),
});

/** Query of `GET /demo/outbox`: optionally only one of this visitor's users. */
export const OutboxQuerySchema = v.object({
  userId: v.optional(v.pipe(v.string(), v.nonEmpty("userId must not be empty"), v.maxLength(64))),
});
