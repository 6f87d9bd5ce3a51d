import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** The peers' servers and the Debian packages that hold them (bookworm: nats-server 2.9.10, redis-server 7.0.15). */
const SERVERS = [
  { binary: "nats-server", pkg: "nats-server" },
  { binary: "redis-server", pkg: "redis-server" },
] as const;

function which(binary: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/usr/sbin:/bin").split(":")) {
    if (existsSync(`${dir}/${binary}`)) return `${dir}/${binary}`;
  }
  for (const dir of ["/usr/sbin", "/usr/bin"]) if (existsSync(`${dir}/${binary}`)) return `${dir}/${binary}`;
  return null;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status}): ${result.stderr?.toString().slice(-2000)}`,
    );
  }
}

/**
 * Paths of nats-server and redis-server, installed from Debian's packages when missing
 * (`apt-get update` once, then one install). The packages' own services are not started here:
 * the bench runs its own servers on 127.0.0.1 with temporary data folders.
 */
export function ensureServers(log: (line: string) => void): { nats: string; redis: string } {
  const missing = SERVERS.filter((s) => which(s.binary) === null);
  if (missing.length > 0) {
    const names = missing.map((s) => s.pkg);
    log(`installing ${names.join(", ")} from Debian's packages (apt-get)`);
    run("apt-get", ["update", "-qq"]);
    run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...names]);
  }
  const nats = which("nats-server");
  const redis = which("redis-server");
  if (!nats || !redis) throw new Error("nats-server or redis-server is still missing after apt-get install");
  return { nats, redis };
}

/** The first line a server prints for `--version`, for the report. */
export function versionOf(binary: string): string {
  const result = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return (result.stdout || result.stderr || "").split("\n")[0].trim();
}
