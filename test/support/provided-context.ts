// Augmenting vitest's module needs it in the program; nothing else of this project imports it.
/// <reference types="vitest" />

/** What the projects' globalSetup files hand to the tests (`project.provide` → `inject`). */
declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the webhook receiver the workerd projects run on 127.0.0.1 (webhook-receiver-setup.ts). */
    webhookReceiverUrl: string;
    /** Base URL of the local mesh the e2e files share (shared-server-setup.ts). */
    meshUrl: string;
  }
}

export {};
