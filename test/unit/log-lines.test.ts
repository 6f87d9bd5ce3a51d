import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LOG_LINES } from "../../runtime/log-lines.ts";

/** The log-line table of docs/operations.md: `msg` → its fields. */
function documentedLines(): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  const page = readFileSync("docs/operations.md", "utf8");
  const section = page.slice(page.indexOf("## Logs"), page.indexOf("## Counters per topic"));
  for (const row of section.split("\n").slice(1)) {
    if (row.startsWith("| `msg`")) continue;
    const cells = /^\| `([^`]+)` \| [^|]+ \| (.*) \|$/.exec(row);
    if (cells)
      lines.set(
        cells[1],
        [...cells[2].matchAll(/`([^`]+)`/g)].map((m) => m[1]),
      );
  }
  return lines;
}

describe("the log lines", () => {
  it("docs/operations.md lists exactly the lines the code declares, with their fields", () => {
    const documented = documentedLines();
    expect([...documented.keys()].sort()).toEqual(Object.keys(LOG_LINES).sort());
    for (const [msg, { fields }] of Object.entries(LOG_LINES)) expect(documented.get(msg), msg).toEqual([...fields]);
  });
});
