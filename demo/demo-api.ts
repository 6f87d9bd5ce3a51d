import * as v from "valibot";
import { catalog } from "./catalog.ts";

/**
 * The demo's own HTTP API (the User Service and the Notification Service of the signup page).
 * The signup form takes the `name` and `email` rules of the `UserRegistered` catalog type, so a
 * form the route accepts always yields an event the log accepts.
 */
export const SignupSchema = v.pipe(
  v.pick(catalog.UserRegistered, ["name", "email"]),
  // One user per address, whatever its case.
  v.transform((input) => ({ ...input, email: input.email.toLowerCase() })),
);
export type Signup = v.InferOutput<typeof SignupSchema>;

/** The topic every `UserRegistered` event goes to. */
export const USERS_TOPIC = "users";
/** The durable subscription that feeds the Notification Service. */
export const NOTIFICATION_SUBSCRIPTION = "notification-service";

/** The topic a user's notifications go to: the signup page follows it. */
export function notificationTopic(userId: string): string {
  return `notifications.${userId}`;
}

/** The error of every Notification Service attempt made while its failure switch is on. */
export const SWITCH_ERROR = "the notification service is failing (demo failure switch is on)";

/** A stored user of the demo's User Service. */
export interface DemoUser {
  userId: string;
  name: string;
  email: string;
  /** The business flow this signup started; every event it causes carries it. */
  correlationId: string;
  createdAt: string;
}

/** Answer of `POST /demo/users`: 201 with `created: true`, or 200 for an address already registered. */
export interface SignupResponse {
  user: DemoUser;
  created: boolean;
  /** Where the `UserRegistered` event stands in the `users` topic; `duplicate` when the log already had it. */
  event: { topic: string; id: string; seq: number; duplicate: boolean };
}

/** One welcome email in the Notification Service's outbox (no real mail is sent). */
export interface OutboxEmail {
  emailId: string;
  userId: string;
  to: string;
  subject: string;
  body: string;
  /** Id of the `UserRegistered` event that caused it. */
  causationId: string;
  sentAt: string;
}

/** The failure switch of the Notification Service. */
export interface FailureSwitch {
  failing: boolean;
  /** When the service recovers by itself; null while it fails until switched off. */
  until: string | null;
}

/** Body of `PUT /demo/notification-service`: fail (optionally only for a while) or recover. */
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
