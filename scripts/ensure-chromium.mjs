#!/usr/bin/env node
// Makes sure the browser tests have a Chromium before the e2e layer runs. A CHROMIUM_PATH set by
// the developer wins and nothing is installed; otherwise Debian's /usr/bin/chromium is used and,
// when it is missing, installed with apt-get (playwright's own download cannot work offline).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const DEBIAN_CHROMIUM = "/usr/bin/chromium";

if (process.env.CHROMIUM_PATH) {
  if (!existsSync(process.env.CHROMIUM_PATH)) {
    console.warn(`ensure-chromium: CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist; browser tests will fail`);
  }
  process.exit(0);
}
if (existsSync(DEBIAN_CHROMIUM)) process.exit(0);

// Root installs directly; anyone else needs passwordless sudo (-n never prompts).
const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
function apt(args) {
  const [command, ...rest] = [...sudo, "apt-get", ...args];
  console.log(`ensure-chromium: ${[command, ...rest].join(" ")}`);
  return spawnSync(command, rest, { stdio: "inherit", env }).status === 0;
}

if (!apt(["update"]) || !apt(["install", "-y", "chromium"]) || !existsSync(DEBIAN_CHROMIUM)) {
  console.error("ensure-chromium: could not install chromium; install it or set CHROMIUM_PATH");
  process.exit(1);
}
