#!/usr/bin/env node
// The one test command: checks the generated types, type-checks every environment, lints, runs
// every project of vitest.config.ts one at a time, then prints one closing line "N passed, N failed"
// and exits non-zero on any failure. Each step says how long it took.
import { spawn, spawnSync } from "node:child_process";
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

const header = (label, command, args) => `\n=== ${label}: ${command} ${args.join(" ")}`;
const footer = (label, ok, started) =>
  `--- ${label}: ${ok ? "ok" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(1)} s`;

function count(label, ok) {
  if (ok) passed += 1;
  else {
    failed += 1;
    failures.push(label);
  }
}

function run(label, command, args) {
  console.log(header(label, command, args));
  const started = Date.now();
  const ok = spawnSync(command, args, { stdio: "inherit", env }).status === 0;
  console.log(footer(label, ok, started));
  return ok;
}

function check(label, command, args) {
  count(label, run(label, command, args));
}

/** Checks that only read the tree, side by side (two cores here); each one's output is printed whole. */
async function checksTogether(checks) {
  const results = await Promise.all(
    checks.map(
      ([label, command, args]) =>
        new Promise((resolve) => {
          const started = Date.now();
          const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
          let output = "";
          child.stdout.on("data", (chunk) => {
            output += chunk;
          });
          child.stderr.on("data", (chunk) => {
            output += chunk;
          });
          child.on("close", (code) => {
            const ok = code === 0;
            resolve({ label, ok, text: [header(label, command, args), output.trimEnd(), footer(label, ok, started)] });
          });
        }),
    ),
  );
  for (const { label, ok, text } of results) {
    console.log(text.filter(Boolean).join("\n"));
    count(label, ok);
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

// The Env the server is checked against is the one wrangler.toml declares now. First and alone:
// it writes a temporary .d.ts beside the real one, which the linter would read.
check("worker types", process.execPath, ["scripts/check-types.mjs"]);
await checksTogether([
  // Every project of the root tsconfig.json (a solution), each file checked once.
  ["typecheck", "npx", ["tsc", "-b"]],
  ["lint", "npx", ["biome", "check", "."]],
  ["deploy dry-run", "npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist"]],
]);
vitest("unit");
vitest("workers");
vitest("demo");
// The browser tests need a Chromium (installed here when missing; no-op with CHROMIUM_PATH) and
// the demo's pages, which its Worker serves as assets.
check("chromium", process.execPath, ["scripts/ensure-chromium.mjs"]);
check("build demo pages", process.execPath, ["scripts/build-assets.mjs"]);
vitest("e2e");
// Fault injection inside workerd and against real local servers (crashes, cuts, load, slow readers, failing receivers).
vitest("reliability-workers");
vitest("reliability");
vitest("reliability-scale");

if (failures.length > 0) console.log(`\nfailed: ${failures.join(", ")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
