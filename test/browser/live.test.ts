import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { adminApi } from "../support/admin-api.ts";
import { type Browser, launchBrowser } from "../support/browser.ts";
import type { LocalHttp } from "../support/local-http.ts";
import { LocalServer } from "../support/local-server.ts";
import { servePreactPage } from "../support/preact-page.ts";
import { subscriberToken } from "../support/subscriber-token.ts";

const server = new LocalServer();
let pages: LocalHttp;
let browser: Browser;

beforeAll(async () => {
  pages = await servePreactPage(new URL("./live-page.tsx", import.meta.url), "live");
  await server.start();
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await pages?.stop();
  await server.dispose();
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function publish(topic: string, from: number, to: number): Promise<void> {
  await adminApi(server).publish(
    topic,
    range(from, to).map((n) => ({
      id: `b${n}`,
      source: "browser-test",
      type: "Note",
      specversion: "1.0",
      data: { text: `note ${n}` },
    })),
  );
}

const shownSeqs = (page: Page) =>
  page.$$eval("#events li", (items) => items.map((li) => Number(li.getAttribute("data-seq"))));

async function waitForState(page: Page, state: string): Promise<void> {
  await page.waitForSelector(`#state[data-state="${state}"]`, { timeout: 30_000 });
}

async function waitForCount(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll("#events li").length >= n, count, { timeout: 30_000 });
}

it("shows events posted over HTTP, and after a server restart the ones published meanwhile, none twice", async () => {
  const page = await browser.newPage();
  await page.goto(
    `${pages.url}/?mesh=${encodeURIComponent(server.url)}&topic=browser-live&token=${await subscriberToken(["browser-live"])}`,
  );
  await waitForState(page, "live");

  await publish("browser-live", 1, 5);
  await waitForCount(page, 5);
  expect(await shownSeqs(page)).toEqual(range(1, 5));
  expect(await page.textContent("#events li:first-child")).toBe("1: note 1");

  await server.stop();
  await waitForState(page, "reconnecting");
  await server.start();
  await publish("browser-live", 6, 12);
  await waitForState(page, "live");
  await waitForCount(page, 12);
  // Give a duplicate time to show up if the client were to let one through.
  await publish("browser-live", 13, 13);
  await waitForCount(page, 13);
  expect(await shownSeqs(page)).toEqual(range(1, 13));
  expect(await page.getAttribute("#state", "data-history")).toMatch(/^connecting,replaying,live,reconnecting,.*live$/);

  // Leaving and coming back resumes from sessionStorage: nothing already shown comes back, what
  // was published while the page was away does.
  expect(await page.evaluate(() => sessionStorage.getItem("event-mesh:browser-live"))).toContain('"lastSeq":13');
  const url = page.url();
  await page.goto("about:blank");
  await publish("browser-live", 14, 15);
  await page.goto(url);
  await waitForState(page, "live");
  await publish("browser-live", 16, 16);
  await waitForCount(page, 3);
  expect(await shownSeqs(page)).toEqual([14, 15, 16]);

  // So does a reload.
  await page.reload();
  await waitForState(page, "live");
  await publish("browser-live", 17, 17);
  await waitForCount(page, 1);
  expect(await shownSeqs(page)).toEqual([17]);

  // Chromium logs each refused connection while the server is down; anything else is a bug.
  expect(browser.errors.filter((e) => !/WebSocket connection to .* failed/.test(e))).toEqual([]);
  await page.close();
});
