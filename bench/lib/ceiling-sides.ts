/** Which part of the bench-only ceiling Worker a line of its bundle runs for (the hubs suite's contrast). */
export type CeilingSide = "relaying DO" | "worker";

export const CEILING_SIDES: readonly CeilingSide[] = ["relaying DO", "worker"];

/**
 * Maps a line of the ceiling's bundle (0-based, as V8 profiles count) to its side. The bundle is
 * one module, so files cannot tell the sides apart: the `Room` class's lines (esbuild writes it as
 * `var Room = class {` … `};` at column 0) are the relaying Durable Object, every other line of
 * `index.ts` is the Worker that forwards to it; esbuild's helpers above it belong to their caller.
 */
export function ceilingSides(bundleText: string): (line: number) => CeilingSide | null {
  const lines = bundleText.split("\n");
  const module = lines.indexOf("// index.ts");
  const start = lines.findIndex((text) => /^var Room = class\b/.test(text));
  const end = lines.findIndex((text, i) => i > start && text === "};");
  if (module < 0 || start < 0 || end < 0)
    throw new Error("the ceiling bundle has no `// index.ts` with a `Room` class");
  return (line) => {
    if (line < module) return null;
    return line >= start && line <= end ? "relaying DO" : "worker";
  };
}
