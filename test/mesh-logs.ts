import type { TestCase, TestModule, TestSuite } from "vitest/node";

/** The tag that shows a test's mesh log lines in the output: `it("…", { tags: [MESH_LOGS] }, …)`. */
export const MESH_LOGS = "mesh-logs";

/**
 * vitest's `onConsoleLog`: the mesh's JSON log lines (`{"msg":…}`, runtime/log.ts) stay out of the
 * test output unless `MESH_TEST_LOGS=1` is set or the test carries the `mesh-logs` tag. Only the
 * printing is dropped: a test that spies on console.log to read them (captureLogsOfEachTest) still sees each.
 */
export function quietMeshLogs(
  log: string,
  _type: "stdout" | "stderr",
  entity: TestModule | TestCase | TestSuite | undefined,
): false | undefined {
  if (!log.startsWith('{"msg":') || process.env.MESH_TEST_LOGS === "1") return undefined;
  if (entity?.type === "test" && entity.tags.includes(MESH_LOGS)) return undefined;
  return false;
}
