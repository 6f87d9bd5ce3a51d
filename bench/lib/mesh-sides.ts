/** Which object of the mesh a piece of code runs for; code shared by several sides has none. */
export type Side = "topic" | "hub" | "worker" | "other objects";

export const SIDES: readonly Side[] = ["topic", "hub", "worker", "other objects"];

// Files that only ever run on one side. The rest (protocol/**, runtime/**, libraries, and the
// durable-objects/ modules both the topic and the hubs use: live-frames, socket-flow, socket-tags,
// resume-plan, token-refresh-check, queue-sender) belong to whichever side called them.
const TOPIC =
  /^durable-objects\/(topic-log|log-store|group-commit|hub-fanout|push-planner|hub-registry|retention[\w-]*|subscription-[\w-]+|delivery-[\w-]+|strict-delivery|unordered-delivery|webhook-sender)\.ts$/;
const HUB = /^durable-objects\/(socket-hub|hub-[\w-]+|row-window|socket-sender)\.ts$/;
const OTHER =
  /^durable-objects\/(topic-directory|token-revocations|consumer-ledger|ledger-store|dead-letter-store|dead-letter-table)\.ts$/;

/** The side a source file runs on, or null when it is shared (attributed to its caller). */
export function sideOfFile(file: string): Side | null {
  if (TOPIC.test(file)) return "topic";
  if (HUB.test(file)) return "hub";
  if (OTHER.test(file)) return "other objects";
  if (file.startsWith("worker/")) return "worker";
  return null;
}

// wrangler's esbuild output (not minified) opens each module's code with a `// <path>` comment.
const SECTION = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/;

/**
 * Maps a line of wrangler's bundle (0-based, as V8 profiles count) to the side of the source file
 * it came from, read from the bundle's module section comments; no source map needed.
 */
export function bundleSides(bundleText: string): (line: number) => Side | null {
  const starts: number[] = [];
  const sides: (Side | null)[] = [];
  bundleText.split("\n").forEach((text, line) => {
    const match = SECTION.exec(text);
    if (!match) return;
    starts.push(line);
    sides.push(sideOfFile(match[1]));
  });
  if (starts.length === 0) throw new Error("the bundle has no `// <path>` module comments to attribute samples by");
  return (line) => {
    // The last section starting at or before the line.
    let lo = 0;
    let hi = starts.length - 1;
    if (line < starts[0]) return null;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= line) lo = mid;
      else hi = mid - 1;
    }
    return sides[lo];
  };
}
