import { defineConfig } from "vitest/config";
import { quietMeshLogs } from "./test/mesh-logs.ts";
import { DEMO_VARS } from "./test/support/demo-credentials.ts";
import { nodeProject, workersProject } from "./test/vitest-projects.ts";

/** A real HTTP webhook receiver on 127.0.0.1 for the workerd projects (its URL via inject()). */
const WEBHOOK_RECEIVER = "./test/support/webhook-receiver-setup.ts";
/** The 10,000-socket scenario, a project of its own (below). */
const HUB_SCALE = "test/reliability/hub-scale.test.ts";

/**
 * Every test layer as one vitest project; `npm test` (scripts/test.mjs) runs them one at a time in
 * this order with `vitest run --project <name>`. test/README.md says which file proves what.
 */
export default defineConfig({
  test: {
    onConsoleLog: quietMeshLogs,
    projects: [
      // Pure modules in Node: protocol parsers and schemas, backoff, delivery planning. They share no
      // state, so the files share their worker processes: a fresh one per file cost about 0.7 s each
      // here. Every project runs two files at a time (test/vitest-projects.ts).
      nodeProject({ name: "unit", include: ["test/unit/**/*.test.ts"], isolate: false }),
      // Routes, Durable Objects and queues inside workerd, with the real wrangler.toml bindings. Each
      // file gets a workerd of its own (its storage isolation), about 2.4 s of start-up that is
      // mostly waiting: two files at a time overlap it (139 s to about 75 s here).
      workersProject({
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: [WEBHOOK_RECEIVER],
        },
      }),
      // The demo app's routes, Durable Objects and Notification Service inside workerd, on its own
      // Worker and wrangler.toml: an app built on the mesh, tested like one.
      workersProject({
        main: "./demo/worker/index.ts",
        configPath: "./demo/wrangler.toml",
        bindings: DEMO_VARS,
        test: { name: "demo", include: ["test/demo/**/*.test.ts"] },
      }),
      // Journeys in Node against a real local server (workerd via wrangler) and, for test/browser, a
      // real headless Chromium. Two files at a time, one per core: most of their time is waiting
      // (queues' batch waits and backoff, a Durable Object's idle time, a server starting), so two
      // overlap it (about 205 s to 118 s here); every file keeps to topics of its own, and those that
      // restart or reconfigure a server start their own.
      nodeProject({
        name: "e2e",
        include: ["test/e2e/**/*.test.ts", "test/browser/**/*.test.ts"],
        // One local mesh for the files that neither restart nor reconfigure it (inject("meshUrl")).
        globalSetup: ["./test/support/shared-server-setup.ts"],
        testTimeout: 120_000,
        hookTimeout: 60_000,
      }),
      // Reliability scenarios inside workerd. Two files at a time: each file has a workerd of its own,
      // so one aborting Durable Objects or flooding the Worker touches no other file's objects, and
      // do-abort's wait for its leases to run out overlaps the others (62 s to about 30 s here).
      workersProject({
        test: {
          name: "reliability-workers",
          include: ["test/reliability/workers/**/*.test.ts"],
          globalSetup: [WEBHOOK_RECEIVER],
        },
      }),
      // Reliability scenarios in Node against real local servers: crashes, cuts, load, slow readers,
      // failing receivers. Each starts its own server; two files at a time, one per core: much of
      // their time is a server starting or restarting, retry backoff and waits for what a client or
      // a receiver does next (179 s with the next project's file to about 75 s here).
      nodeProject({
        name: "reliability",
        include: ["test/reliability/*.test.ts"],
        exclude: [HUB_SCALE],
        testTimeout: 120_000,
        hookTimeout: 60_000,
      }),
      // 10,000 sockets on one topic: alone, so its upgrades have both cores (beside another file
      // it took half again as long).
      nodeProject({
        name: "reliability-scale",
        include: [HUB_SCALE],
        testTimeout: 120_000,
        hookTimeout: 60_000,
      }),
    ],
  },
});
