/**
 * The Worker the workers-pool tests run in: the mesh with the tests' catalog and the test queue
 * consumers. Tests share its isolate, so the real queue path calls the same consumer objects whose
 * counters the tests read.
 */
import { createMesh } from "../../../worker/index.ts";
import { flakyConsumer } from "../../reliability/workers/support/flaky-consumer.ts";
import { testCatalog } from "../../support/test-catalog.ts";
import { testConsumers } from "./test-consumers.ts";

export * from "../../../worker/durable-object-classes.ts";

export default createMesh({ catalog: testCatalog, consumers: [...testConsumers, flakyConsumer] });
