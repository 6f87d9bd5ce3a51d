#!/usr/bin/env node
// Checks the relative links of the documentation: README.md, test/README.md and docs/**/*.md.
// A link to a missing file, or a `#anchor` that no heading of the target markdown produces (GitHub's
// slug rules), is broken. http(s) and other scheme links are not checked. Prints each broken link as
// `file:line: target (reason)` and exits 1 when there is one. `--root DIR` checks another tree.
// Node 20, no dependencies.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The markdown files to check, relative to `root`. */
export function docFiles(root) {
  const files = ["README.md", join("test", "README.md")].filter((f) => existsSync(join(root, f)));
  const walk = (dir) => {
    if (!existsSync(join(root, dir))) return;
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) files.push(path);
    }
  };
  walk("docs");
  return files;
}

/**
 * The lines of a markdown text with fenced code blocks blanked (so nothing in them counts as a
 * heading or a link); line numbers stay as they were.
 */
function proseLines(text) {
  const lines = text.split(/\r?\n/);
  let fence = null;
  return lines.map((line) => {
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (open && open[1][0] === fence[0] && open[1].length >= fence.length && line.trim() === open[1]) fence = null;
      return "";
    }
    if (open) {
      fence = open[1];
      return "";
    }
    return line;
  });
}

/** Inline code spans replaced by spaces of the same length, so their text is neither link nor markup. */
function withoutCodeSpans(line) {
  return line.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (span) => " ".repeat(span.length));
}

/** GitHub's slug of a heading's text (github-slugger): lower case, punctuation dropped, spaces to `-`. */
export function slug(headingText) {
  // The rendered text: code spans keep their content, links their text, HTML tags and emphasis go.
  let text = "";
  const parts = headingText.split(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/);
  for (let i = 0; i < parts.length; i += 3) {
    text += parts[i]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "")
      .replace(/\\([!-/:-@[-`{-~])/g, "$1")
      .replace(/(^|[^\p{L}\p{N}])_+|_+(?=[^\p{L}\p{N}]|$)/gu, "$1")
      .replace(/\*/g, "");
    if (i + 2 < parts.length) text += parts[i + 2];
  }
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a markdown text offers: heading slugs (with GitHub's -1, -2 for repeats) and HTML ids. */
export function anchorsOf(text) {
  const anchors = new Set();
  const seen = new Map();
  const add = (heading) => {
    const base = slug(heading);
    let name = base;
    const count = seen.get(base) ?? 0;
    if (count > 0) name = `${base}-${count}`;
    seen.set(base, count + 1);
    anchors.add(name);
  };
  const lines = proseLines(text);
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) {
      add(atx[1] ?? "");
    } else if (/^ {0,3}(=+|-+)[ \t]*$/.test(line) && i > 0) {
      const previous = lines[i - 1];
      const isText = previous.trim() !== "" && !/^ {0,3}(#|>|[-*+] |\d+[.)] |\||=+[ \t]*$|-+[ \t]*$)/.test(previous);
      if (isText) add(previous.trim());
    }
    for (const match of line.matchAll(/<[a-zA-Z][^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["'][^>]*>/g)) {
      anchors.add(match[1]);
    }
  });
  return anchors;
}

/** The link targets of a markdown text with their line numbers: inline links, images and definitions. */
export function linksOf(text) {
  const links = [];
  proseLines(text).forEach((raw, i) => {
    const line = withoutCodeSpans(raw);
    for (const match of line.matchAll(/\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)) {
      links.push({ line: i + 1, target: match[1] });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(line);
    if (definition) links.push({ line: i + 1, target: definition[1] });
  });
  return links.map(({ line, target }) => ({ line, target: target.replace(/^<(.*)>$/, "$1") }));
}

/** Every broken relative link of the documentation under `root`. */
export function checkLinks(root) {
  const anchorCache = new Map();
  const anchorsAt = (file) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(file, "utf8")));
    return anchorCache.get(file);
  };
  const broken = [];
  const files = docFiles(root);
  let count = 0;
  for (const file of files) {
    const absolute = join(root, file);
    for (const { line, target } of linksOf(readFileSync(absolute, "utf8"))) {
      // http(s), mailto: and other schemes, and protocol-relative links, are not checked.
      if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(target) || target.startsWith("//")) continue;
      count += 1;
      const hash = target.indexOf("#");
      const pathPart = hash === -1 ? target : target.slice(0, hash);
      const anchor = hash === -1 ? null : target.slice(hash + 1);
      let path;
      try {
        path = decodeURIComponent(pathPart.split("?")[0]);
      } catch {
        broken.push({ file, line, target, reason: "malformed percent-encoding" });
        continue;
      }
      const destination =
        path === "" ? absolute : path.startsWith("/") ? join(root, path) : resolve(dirname(absolute), path);
      if (!`${destination}${sep}`.startsWith(`${resolve(root)}${sep}`)) {
        broken.push({ file, line, target, reason: "points outside the repository" });
        continue;
      }
      if (!existsSync(destination)) {
        broken.push({ file, line, target, reason: `no file ${relative(root, destination)}` });
        continue;
      }
      if (anchor === null || anchor === "" || !destination.endsWith(".md") || statSync(destination).isDirectory()) {
        continue;
      }
      let name;
      try {
        name = decodeURIComponent(anchor);
      } catch {
        name = anchor;
      }
      if (!anchorsAt(destination).has(name)) {
        broken.push({ file, line, target, reason: `no heading #${name} in ${relative(root, destination)}` });
      }
    }
  }
  return { files, count, broken };
}

function main(argv) {
  const at = argv.indexOf("--root");
  const root = resolve(at === -1 ? join(dirname(fileURLToPath(import.meta.url)), "..") : argv[at + 1]);
  const { files, count, broken } = checkLinks(root);
  for (const b of broken) console.log(`${b.file}:${b.line}: ${b.target} (${b.reason})`);
  if (broken.length > 0) {
    console.log(`${broken.length} broken link(s) of ${count} relative links in ${files.length} files`);
    process.exit(1);
  }
  console.log(`${count} relative links in ${files.length} files: none broken`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
