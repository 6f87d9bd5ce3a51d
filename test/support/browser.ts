import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** The Chromium the browser tests drive: `CHROMIUM_PATH`, else Debian's (see scripts/ensure-chromium.mjs). */
function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || "/usr/bin/chromium";
}

/** Flags for headless Chromium on a CI machine with no GPU, no sandbox and no outside network. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  /** A new tab that records uncaught page errors and console errors into `errors`. */
  newPage(): Promise<Page>;
  /** Uncaught errors and console errors of every page opened with `newPage`. */
  errors: string[];
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile (playwright refuses `--user-data-dir` in args). */
export async function launchBrowser(options: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "mesh-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: options.viewport ?? { width: 1280, height: 800 },
    args: CHROMIUM_ARGS,
  });
  const errors: string[] = [];
  return {
    context,
    errors,
    async newPage() {
      const page = await context.newPage();
      page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
      });
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
