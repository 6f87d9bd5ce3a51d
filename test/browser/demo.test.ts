import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeadLetterList } from "../../protocol/dead-letter-api.ts";
import { type DemoUser, notificationTopic, type OutboxEmail, SWITCH_ERROR } from "../../protocol/demo.ts";
import type { HistoryPage } from "../../protocol/responses.ts";
import { type Browser, launchBrowser } from "../support/browser.ts";
import { ADMIN_AUTH, KEYS } from "../support/credentials.ts";
import { LocalServer } from "../support/local-server.ts";

const SHOTS = "test-output/screenshots";
/** The README shows these two; `UPDATE_DOC_SCREENSHOTS=1` copies the new ones there. */
const DOC_SHOTS = "docs/screenshots";
/** Deliveries and retries go through a real queue (batch wait, backoff): generous, never a sleep. */
const DELIVERY = 60_000;
/** Every attempt of a message, each after the queue's batch wait and backoff, then the dead-letter queue. */
const EXHAUSTED = 150_000;

// Queue retries a second or two apart, so a failing service runs out of attempts within the test.
const server = new LocalServer({ vars: { QUEUE_RETRY_FIRST_DELAY_SECONDS: "1", QUEUE_RETRY_MAX_DELAY_SECONDS: "2" } });
let browser: Browser;

beforeAll(async () => {
  // The pages are static assets built from demo/src; build them from the current source.
  execFileSync(process.execPath, ["scripts/build-assets.mjs"], { stdio: "inherit" });
  await server.start();
  browser = await launchBrowser({ viewport: { width: 1360, height: 900 } });
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server.dispose();
  expect(browser?.errors ?? []).toEqual([]);
});

let n = 0;
const uniqueEmail = (name: string) => `${name}.${Date.now()}.${++n}@example.com`;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${server.url}${path}`, { headers: ADMIN_AUTH });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

const outbox = async (userId: string) =>
  (await getJson<{ emails: OutboxEmail[] }>(`/demo/outbox?userId=${userId}`)).emails;
const userByEmail = async (email: string) =>
  (await getJson<{ users: DemoUser[] }>("/demo/users")).users.filter((u) => u.email === email);
const eventsOf = async (topic: string) => (await getJson<HistoryPage>(`/v1/topics/${topic}/events?limit=1000`)).events;

/** Reads until the value exists (a real queue delivers in its own time), then returns it. */
async function eventually<T>(read: () => Promise<T | undefined>, timeout = DELIVERY): Promise<T> {
  let value: T | undefined;
  await expect
    .poll(
      async () => {
        value = await read();
        return value !== undefined;
      },
      { timeout, interval: 500 },
    )
    .toBe(true);
  return value as T;
}

async function setFailing(failing: boolean): Promise<void> {
  const res = await fetch(`${server.url}/demo/notification-service`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ failing }),
  });
  expect(res.status).toBe(200);
}

async function open(path: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${server.url}${path}`);
  return page;
}

/** The signup page, once it follows the users topic live. */
async function openSignup(): Promise<Page> {
  const page = await open("/");
  await page.locator('[data-testid=connection][data-state="live"]').waitFor();
  return page;
}

/** A full-page screenshot with the viewport as tall as the page, so fixed toasts sit at its bottom. */
async function screenshot(page: Page, name: string): Promise<void> {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 1360, height });
  await page.screenshot({ path: join(SHOTS, name) });
}

/** Fills and sends the form; answers the outcome once the one expected (`says`) shows. */
async function submit(page: Page, name: string, email: string, says: string): Promise<string> {
  await page.fill("#name", name);
  await page.fill("#email", email);
  await page.click("button[type=submit]");
  const outcome = page.getByTestId("signup-outcome").filter({ hasText: says });
  await outcome.waitFor();
  return (await outcome.textContent()) ?? "";
}

const flowTypes = (page: Page) =>
  page.$$eval("[data-testid=flow-item]", (items) => items.map((i) => (i as HTMLElement).dataset.type));

async function userIdOf(email: string): Promise<string> {
  const [user] = await userByEmail(email);
  return user.userId;
}

describe("the signup page", () => {
  it("shows the welcome toast live and the flow UserRegistered → WelcomeEmailSent with its causation link", async () => {
    const page = await openSignup();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    // A reload would drop this marker.
    await page.evaluate(() => Object.assign(window, { stillTheSamePage: true }));

    const email = uniqueEmail("ada");
    expect(await submit(page, "Ada Lovelace", email, "Welcome aboard")).toContain("Welcome aboard, Ada Lovelace");
    const toast = page.getByTestId("toast");
    await toast.waitFor({ timeout: DELIVERY });
    expect(await toast.textContent()).toContain("Welcome email sent");
    await page.getByTestId("outbox-email").waitFor();

    expect(await flowTypes(page)).toEqual(["UserRegistered", "WelcomeEmailSent"]);
    const [registered] = (await eventsOf("users")).filter((e) => (e.data as { email: string }).email === email);
    const welcome = page.locator('[data-testid=flow-item][data-type="WelcomeEmailSent"]');
    expect(await welcome.getAttribute("data-depth")).toBe("1");
    expect(await welcome.getByTestId("flow-cause").textContent()).toContain(
      `caused by UserRegistered at users #${registered.seq}`,
    );
    expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(
      true,
    );
    // Live, not polled: the page asked the Worker only to sign up, for a token per followed topic (once
    // per connection), and, once told by the event, to read the outbox.
    const http = requests.filter((r) => !r.endsWith("/ws"));
    expect(new Set(http)).toEqual(new Set(["POST /demo/users", "GET /demo/token", "GET /demo/outbox"]));
    expect(http.filter((r) => r === "GET /demo/token").length).toBeLessThanOrEqual(2);
    expect(http.filter((r) => r === "GET /demo/outbox").length).toBeLessThanOrEqual(2);

    await screenshot(page, "signup.png");
    await page.close();
  });

  it("says why an invalid email is refused and sends nothing", async () => {
    const page = await openSignup();
    await page.fill("#name", "Bad Address");
    await page.fill("#email", "bad-address@");
    await page.click("button[type=submit]");
    const error = page.getByTestId("email-error");
    await error.waitFor();
    expect(await error.textContent()).toBe("email must be a valid address");
    expect(await page.getAttribute("#email", "aria-invalid")).toBe("true");
    expect(await userByEmail("bad-address@")).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "signup-invalid.png") });
    await page.close();
  });

  it("turns a double submit into one user, one event and one email", async () => {
    const page = await openSignup();
    const email = uniqueEmail("grace");
    await submit(page, "Grace Hopper", email, "Welcome aboard");
    // The same form again, and two more requests racing each other.
    const again = await submit(page, "Grace Hopper", email, "Already registered");
    expect(again).toContain("the log answered duplicate");
    const statuses = await page.evaluate(async (address) => {
      const post = () =>
        fetch("/demo/users", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "Grace Hopper", email: address }),
        }).then((r) => r.status);
      return Promise.all([post(), post()]);
    }, email);
    expect(statuses).toEqual([200, 200]);

    await page.getByTestId("toast").waitFor({ timeout: DELIVERY });
    const userId = await userIdOf(email);
    expect(await userByEmail(email)).toHaveLength(1);
    expect(
      (await eventsOf("users")).filter((e) => (e.data as { userId: string }).userId === userId).map((e) => e.type),
    ).toEqual(["UserRegistered"]);
    expect(await outbox(userId)).toHaveLength(1);
    expect((await eventsOf(notificationTopic(userId))).map((e) => e.type)).toEqual(["WelcomeEmailSent"]);
    expect(await flowTypes(page)).toEqual(["UserRegistered", "WelcomeEmailSent"]);
    await page.close();
  });

  it("shows each failed attempt while the service fails, then exactly one email after recovery", async () => {
    const page = await openSignup();
    const toggle = page.getByTestId("failure-switch");
    await toggle.click();
    await page.locator('[data-testid=failure-switch][aria-checked="true"]').waitFor();

    const email = uniqueEmail("margaret");
    await submit(page, "Margaret Hamilton", email, "Welcome aboard");
    // Two failed attempts: the first delivery and one retry, each visible as it happens.
    await page
      .locator('[data-testid=flow-item][data-type="NotificationAttemptFailed"]')
      .nth(1)
      .waitFor({ timeout: DELIVERY });
    expect(await page.getByTestId("outbox-email").count()).toBe(0);
    await page.getByTestId("flow-pending").waitFor();
    await toggle.click();
    await page.locator('[data-testid=failure-switch][aria-checked="false"]').waitFor();

    await page.getByTestId("toast").waitFor({ timeout: DELIVERY });
    const types = await flowTypes(page);
    expect(await page.getByTestId("flow-pending").count()).toBe(0);
    expect(types[0]).toBe("UserRegistered");
    expect(types.at(-1)).toBe("WelcomeEmailSent");
    expect(types.filter((t) => t === "WelcomeEmailSent")).toHaveLength(1);
    expect(types.filter((t) => t === "NotificationAttemptFailed").length).toBeGreaterThanOrEqual(2);
    const failed = page.locator('[data-testid=flow-item][data-type="NotificationAttemptFailed"]');
    expect(await failed.first().textContent()).toContain("Attempt 1 failed");
    expect(await failed.nth(1).textContent()).toContain("Attempt 2 failed");

    const userId = await userIdOf(email);
    await page.getByTestId("outbox-email").waitFor();
    expect(await page.getByTestId("outbox-email").count()).toBe(1);
    expect(await outbox(userId)).toHaveLength(1);
    await screenshot(page, "signup-retries.png");
    await page.close();
  });
});

describe("the operator console", () => {
  it("shows the subscription, pauses and resumes it, tails a topic and redrives a dead letter", async () => {
    await setFailing(true);
    const email = uniqueEmail("katherine");
    const res = await fetch(`${server.url}/demo/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Katherine Johnson", email }),
    });
    expect(res.status).toBe(201);
    const userId = await userIdOf(email);
    const eventId = `user-registered-${userId}`;

    const page = await open(`/console#key=${KEYS.admin.secret}`);
    const sub = page.locator('[data-testid=subscription-row][data-name="notification-service"]');
    await sub.waitFor();
    expect(await sub.textContent()).toContain("queue DELIVERY_QUEUE");
    await page.locator('[data-testid=topic-row][data-topic="users"]').waitFor();

    // The queue retries until its attempts run out; the dead letter then shows with its error.
    const deadLetters = await getJson<DeadLetterList>("/v1/dead-letters");
    expect(deadLetters.deadLetters.filter((d) => d.event.id === eventId)).toEqual([]);
    const letter = await eventually(
      async () => (await getJson<DeadLetterList>("/v1/dead-letters")).deadLetters.find((d) => d.event.id === eventId),
      EXHAUSTED,
    );
    const row = page.locator(`[data-testid=dead-letter-row][data-id="${letter.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain(SWITCH_ERROR);

    await page.click('[data-testid=topic-row][data-topic="users"] button');
    await page.getByTestId("tail-row").first().waitFor();
    expect(await page.getByTestId("tail").textContent()).toContain("UserRegistered");

    await sub.getByRole("button", { name: "Pause" }).click();
    await page
      .locator('[data-testid=subscription-row][data-name="notification-service"][data-state="paused"]')
      .waitFor();
    await screenshot(page, "console-paused.png");
    await sub.getByRole("button", { name: "Resume" }).click();
    await page
      .locator('[data-testid=subscription-row][data-name="notification-service"][data-state="active"]')
      .waitFor();
    await screenshot(page, "console.png");

    await setFailing(false);
    await row.getByRole("button", { name: "Redrive" }).click();
    await page.getByTestId("redrive-notice").waitFor();
    await row.waitFor({ state: "detached", timeout: 10_000 });
    await expect.poll(async () => (await outbox(userId)).length, { timeout: DELIVERY, interval: 500 }).toBe(1);
    expect((await eventsOf(notificationTopic(userId))).filter((e) => e.type === "WelcomeEmailSent")).toHaveLength(1);
    await page.close();

    if (process.env.UPDATE_DOC_SCREENSHOTS) {
      mkdirSync(DOC_SHOTS, { recursive: true });
      copyFileSync(join(SHOTS, "signup-retries.png"), join(DOC_SHOTS, "signup.png"));
      copyFileSync(join(SHOTS, "console.png"), join(DOC_SHOTS, "console.png"));
    }
  }, 240_000);
});
