import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const script = join(import.meta.dirname, "..", "..", "scripts", "check-links.mjs");

function check(...args: string[]) {
  const result = spawnSync(process.execPath, [script, ...args], { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("documentation links", () => {
  it("README.md, test/README.md and docs/ have no broken relative link or anchor", () => {
    const { status, output } = check();
    expect(output).toContain("none broken");
    expect(status).toBe(0);
  });
});

describe("the link checker", () => {
  const root = mkdtempSync(join(tmpdir(), "docs-links-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  it("lists every missing file and missing anchor, and exits 1", () => {
    write(
      "README.md",
      [
        "# Title",
        "[ok](docs/a.md) [ok](docs/a.md#publish-post-v1topicstopicevents) [ok](#title) [web](https://example.com/x)",
        "[gone](docs/missing.md) [no anchor](docs/a.md#nowhere)",
        "`[in code](docs/also-missing.md)`",
        "```",
        "[in a fence](docs/fenced-missing.md)",
        "```",
      ].join("\n"),
    );
    write(
      "docs/a.md",
      [
        "# A",
        "## Publish: `POST /v1/topics/:topic/events`",
        "## Limits",
        "## Limits",
        "[repeat](#limits-1) [setext](#setext-heading) [back](../README.md#title) [bad](#limits-2)",
        "Setext heading",
        "--------------",
        "",
        "[def]: ./b.md",
      ].join("\n"),
    );
    const { status, output } = check("--root", root);
    expect(status).toBe(1);
    expect(output).toContain("README.md:3: docs/missing.md (no file docs/missing.md)");
    expect(output).toContain("README.md:3: docs/a.md#nowhere (no heading #nowhere in docs/a.md)");
    expect(output).toContain("docs/a.md:5: #limits-2 (no heading #limits-2 in docs/a.md)");
    expect(output).toContain("docs/a.md:9: ./b.md (no file docs/b.md)");
    expect(output).not.toContain("also-missing");
    expect(output).not.toContain("fenced-missing");
    expect(output).toContain("4 broken link(s)");
  });

  it("passes a tree whose links all resolve", () => {
    write("README.md", "# Title\n\nSee [the guide](docs/guide.md#step-1-install-mesh_keys).\n");
    rmSync(join(root, "docs"), { recursive: true, force: true });
    write("docs/guide.md", "# Guide\n\n## Step 1: install `MESH_KEYS`\n\n[home](../README.md#title)\n");
    const { status, output } = check("--root", root);
    expect(output).toContain("2 relative links in 2 files: none broken");
    expect(status).toBe(0);
  });
});
