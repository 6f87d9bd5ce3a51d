import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** A process the bench started; it is stopped by its own PID, never by name. */
export interface Started {
  name: string;
  child: ChildProcess;
  /** Lines the process printed (kept for error messages). */
  output: string[];
}

/** Starts a process and resolves once a line of its output matches `ready`, or rejects after `timeoutMs`. */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 20_000,
): Promise<Started> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const started: Started = { name, child, output: [] };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopProcess(started);
      reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${started.output.slice(-20).join("\n")}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line.length === 0) continue;
        if (started.output.length < 500) started.output.push(line);
        if (ready.test(line)) {
          clearTimeout(timer);
          resolve(started);
        }
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not start: ${err.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${started.output.slice(-20).join("\n")}`));
    });
  });
}

/** SIGTERM by PID, then SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(started: Started, graceMs = 5_000): Promise<void> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resident memory of one process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** PIDs of every descendant of `root` whose command name is `comm` (e.g. the workerd processes wrangler runs). */
export function descendantsNamed(root: number, comm: string): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name sits in parentheses and may hold spaces; the parent PID follows it.
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
      names.set(Number(entry), name);
    } catch {
      // The process ended while the list was read.
    }
  }
  const isDescendant = (pid: number): boolean => {
    let current = parents.get(pid);
    for (let hops = 0; current !== undefined && hops < 64; hops++) {
      if (current === root) return true;
      current = parents.get(current);
    }
    return false;
  };
  return [...names].filter(([pid, name]) => name === comm && isDescendant(pid)).map(([pid]) => pid);
}
