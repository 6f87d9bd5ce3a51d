import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { type Browser, launchBrowser } from "../support/browser.ts";
import type { LocalHttp } from "../support/local-http.ts";
import { servePreactPage } from "../support/preact-page.ts";
import { subscriberToken } from "../support/subscriber-token.ts";

// usePresence in Chromium against the shared local mesh: two visitors see each other, a change of
// data, and a leave when one's component unmounts.
const meshUrl = inject("meshUrl");
let pages: LocalHttp;
let browser: Browser;

beforeAll(async () => {
  pages = await servePreactPage(new URL("./presence-page.tsx", import.meta.url), "presence");
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await pages?.stop();
});

async function visit(topic: string, member: string, name: string): Promise<Page> {
  const page = await browser.newPage();
  const token = await subscriberToken([topic], 600, undefined, member);
  await page.goto(`${pages.url}/?mesh=${encodeURIComponent(meshUrl)}&topic=${topic}&name=${name}&token=${token}`);
  return page;
}

const members = (page: Page) =>
  page.$$eval("#members li", (items) => items.map((li) => `${li.getAttribute("data-member")} ${li.textContent}`));

async function until(page: Page, text: string, expected: string[]): Promise<void> {
  await page.waitForFunction(
    ([occupancy, list]) =>
      document.querySelector("#occupancy")?.textContent === occupancy &&
      JSON.stringify(
        Array.from(document.querySelectorAll("#members li")).map(
          (li) => `${li.getAttribute("data-member")} ${li.textContent}`,
        ),
      ) === list,
    [text, JSON.stringify(expected)] as const,
    { timeout: 15_000 },
  );
}

it("shows who is here with usePresence: join, a change of data, and a leave on unmount", async () => {
  const topic = `browser-presence-${Date.now()}`;
  const ada = await visit(topic, "u-ada", "Ada");
  await until(ada, "1/1", [`u-ada {"name":"Ada","status":"here"}`]);
  const bo = await visit(topic, "u-bo", "Bo");
  const both = [`u-ada {"name":"Ada","status":"here"}`, `u-bo {"name":"Bo","status":"here"}`];
  await until(bo, "2/2", both);
  await until(ada, "2/2", both);

  await bo.click("#away");
  await until(ada, "2/2", [`u-ada {"name":"Ada","status":"here"}`, `u-bo {"name":"Bo","status":"away"}`]);

  await bo.click("#leave");
  await until(ada, "1/1", [`u-ada {"name":"Ada","status":"here"}`]);
  expect(await members(ada)).toEqual([`u-ada {"name":"Ada","status":"here"}`]);
  expect(await ada.getAttribute("#occupancy", "data-synced")).toBe("true");
  await Promise.all([ada.close(), bo.close()]);
});
