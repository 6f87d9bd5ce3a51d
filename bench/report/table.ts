import type { Row } from "../lib/rows.ts";
import { formatRatio, formatValue, SECTION_TITLES } from "./format.ts";

/** The comparison as a fixed-width text table for the terminal. */
export function textTable(rows: Row[]): string {
  const header = ["measure", "unit", "mesh", "peer", "peer value", "mesh/peer"];
  const lines: string[][] = [];
  let section = "";
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      lines.push([SECTION_TITLES[row.section], "", "", "", "", ""]);
    }
    lines.push([
      `  ${row.measure}`,
      row.unit,
      formatValue(row.mesh),
      row.peer,
      formatValue(row.peerValue),
      formatRatio(row),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i !== 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [render(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(render)].join("\n");
}
