import type { TestProject } from "vitest/node";
import { LocalServer } from "./local-server.ts";
import "./provided-context.ts";

/**
 * One local mesh for the e2e files that neither restart nor reconfigure their server: they read
 * its URL with `inject("meshUrl")` and keep to topics of their own. A file that restarts a server
 * or needs other vars starts its own `LocalServer`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await new LocalServer().start();
  project.provide("meshUrl", server.url);
  return () => server.dispose();
}
