#!/usr/bin/env node
// The one test command: type-checks every environment, lints, runs every project of
// vitest.config.ts one at a time, then prints one closing line "N passed, N failed" and exits
// non-zero on any failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { QUIET_WRANGLER_ENV } from "./quiet-wrangler.mjs";

// wrangler's own output at warn level in every step and in what the tests start.
const env = { ...process.env, ...QUIET_WRANGLER_ENV, WRANGLER_LOG: "warn" };
const outDir = join("test-output", "reports");
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

let passed = 0;
let failed = 0;
const failures = [];

function run(label, command, args) {
  console.log(`\n=== ${label}: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", env });
  return result.status === 0;
}

function check(label, command, args) {
  if (run(label, command, args)) passed += 1;
  else {
    failed += 1;
    failures.push(label);
  }
}

function vitest(project) {
  const report = join(outDir, `${project}.json`);
  const ok = run(project, "npx", [
    "vitest",
    "run",
    "--project",
    project,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
  ]);
  if (!existsSync(report)) {
    failed += 1;
    failures.push(`${project} (no report)`);
    return;
  }
  const summary = JSON.parse(readFileSync(report, "utf8"));
  passed += summary.numPassedTests;
  failed += summary.numFailedTests;
  // A suite that fails to load has no failed tests but is still a failure.
  const broken = summary.numFailedTestSuites > 0 && summary.numFailedTests === 0;
  if (broken || (!ok && summary.numFailedTests === 0)) {
    failed += 1;
    failures.push(`${project} (suite error)`);
  } else if (summary.numFailedTests > 0) failures.push(project);
}

// The Env the server is checked against is the one wrangler.toml declares now.
check("worker types", process.execPath, ["scripts/check-types.mjs"]);
// Every project of the root tsconfig.json (a solution), each file checked once.
check("typecheck", "npx", ["tsc", "-b"]);
check("lint", "npx", ["biome", "check", "."]);
check("deploy dry-run", "npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist"]);
vitest("unit");
vitest("workers");
// The browser tests need a Chromium: installed here when missing (no-op with CHROMIUM_PATH).
check("chromium", process.execPath, ["scripts/ensure-chromium.mjs"]);
vitest("e2e");
// Fault injection inside workerd and against real local servers (crashes, cuts, load, slow readers, failing receivers).
vitest("reliability-workers");
vitest("reliability");

if (failures.length > 0) console.log(`\nfailed: ${failures.join(", ")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
