import type { TestProject } from "vitest/node";
import { WebhookReceiver } from "./webhook-receiver.ts";
import "./provided-context.ts";

/** Starts one real webhook receiver for the workers pool; tests reach it over HTTP on 127.0.0.1. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const receiver = await new WebhookReceiver().start();
  project.provide("webhookReceiverUrl", receiver.url);
  return () => receiver.stop();
}
