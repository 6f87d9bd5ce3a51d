import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { DeadLetterList, HistoryPage, PresencePage } from "event-mesh/client";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OutboxAnswer, type SignupAnswer, SWITCH_ERROR } from "../../demo/api-shapes.ts";
import { type Browser, launchBrowser } from "../support/browser.ts";
import { DEMO_VARS, OPERATOR_AUTH } from "../support/demo-credentials.ts";
import { LocalServer } from "../support/local-server.ts";

const SHOTS = "test-output/screenshots";
/** The README shows these two; `UPDATE_DOC_SCREENSHOTS=1` copies the new ones there. */
const DOC_SHOTS = "docs/screenshots";
/** Deliveries and retries go through a real queue (batch wait, backoff): generous, never a sleep. */
const DELIVERY = 60_000;
/** Every attempt of a message, each after the queue's batch wait and backoff, then the dead-letter queue. */
const EXHAUSTED = 150_000;

// The demo's own Worker and wrangler.toml, with the demo's test secrets. Queue retries a second or
// two apart, so a failing service runs out of attempts within the test.
const server = new LocalServer({
  config: "demo/wrangler.toml",
  entrypoint: "demo/worker/index.ts",
  vars: { ...DEMO_VARS, QUEUE_RETRY_FIRST_DELAY_SECONDS: "1", QUEUE_RETRY_MAX_DELAY_SECONDS: "2" },
});
/** One browser profile is one visitor (one cookie jar). */
let browser: Browser;
const browsers: Browser[] = [];

async function newBrowser(): Promise<Browser> {
  const launched = await launchBrowser({ viewport: { width: 1360, height: 900 } });
  browsers.push(launched);
  return launched;
}

beforeAll(async () => {
  // The pages are static assets built from demo/src; build them from the current source.
  execFileSync(process.execPath, ["scripts/build-assets.mjs"], { stdio: "inherit" });
  await server.start();
  browser = await newBrowser();
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  for (const b of browsers) await b.close();
  await server.dispose();
  expect(browsers.flatMap((b) => b.errors)).toEqual([]);
});

let n = 0;
const uniqueEmail = (name: string) => `${name}.${Date.now()}.${++n}@example.com`;

/** A mesh read with the operator's admin key. */
async function operatorJson<T>(path: string): Promise<T> {
  const res = await fetch(`${server.url}${path}`, { headers: OPERATOR_AUTH });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

const eventsOf = async (topic: string) =>
  (await operatorJson<HistoryPage>(`/v1/topics/${topic}/events?limit=1000`)).events;
const registrationsOf = async (email: string) =>
  (await eventsOf("users")).filter((e) => (e.data as { email: string }).email === email);

/** A visitor without a browser: a script with its own cookie, as a second tab of nobody. */
async function scriptVisitor() {
  const first = await fetch(`${server.url}/demo/me`);
  const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0];
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };
}

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

/** The signup page of a visitor, once it knows who the visitor is (its failure switch shows). */
async function openSignup(visitor = browser): Promise<Page> {
  const page = await visitor.newPage();
  await page.goto(server.url);
  await page.getByTestId("failure-switch").waitFor();
  return page;
}

/** A full-page screenshot with the viewport as tall as the page, so fixed toasts sit at its bottom. */
async function screenshot(page: Page, name: string): Promise<void> {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 1360, height });
  await page.screenshot({ path: join(SHOTS, name) });
}

/** Fills and sends the form; answers the User Service's answer once the outcome expected (`says`) shows. */
async function submit(page: Page, name: string, email: string, says: string): Promise<SignupAnswer> {
  await page.fill("#name", name);
  await page.fill("#email", email);
  const answer = page.waitForResponse((r) => r.url().endsWith("/demo/users") && r.request().method() === "POST");
  await page.click("button[type=submit]");
  await page.getByTestId("signup-outcome").filter({ hasText: says }).waitFor();
  return (await (await answer).json()) as SignupAnswer;
}

const flowTypes = (page: Page) =>
  page.$$eval("[data-testid=flow-item]", (items) => items.map((i) => (i as HTMLElement).dataset.type));

const outboxCount = (page: Page) => page.getByTestId("outbox-email").count();

describe("the signup page", () => {
  it("shows the welcome toast live and the flow UserRegistered → WelcomeEmailSent with its causation link", async () => {
    const page = await openSignup();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    // A reload would drop this marker.
    await page.evaluate(() => Object.assign(window, { stillTheSamePage: true }));

    const email = uniqueEmail("ada");
    const answer = await submit(page, "Ada Lovelace", email, "Welcome aboard");
    expect(answer).toMatchObject({ created: true, registered: { type: "UserRegistered" } });
    const toast = page.getByTestId("toast");
    await toast.waitFor({ timeout: DELIVERY });
    expect(await toast.textContent()).toContain("Welcome email sent");
    await page.getByTestId("outbox-email").waitFor();

    expect(await flowTypes(page)).toEqual(["UserRegistered", "WelcomeEmailSent"]);
    const [registered] = await registrationsOf(email);
    expect(registered.seq).toBe(answer.registered.seq);
    const welcome = page.locator('[data-testid=flow-item][data-type="WelcomeEmailSent"]');
    expect(await welcome.getAttribute("data-depth")).toBe("1");
    expect(await welcome.getByTestId("flow-cause").textContent()).toContain(
      `caused by UserRegistered at users #${registered.seq}`,
    );
    expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(
      true,
    );
    // Live, not polled: the page asked the Worker only to sign up, for a token for its topic (once per
    // connection), and, when told by the event, to read the outbox.
    const http = requests.filter((r) => !r.endsWith("/ws"));
    expect(new Set(http)).toEqual(new Set(["POST /demo/users", "GET /demo/token", "GET /demo/outbox"]));
    expect(http.filter((r) => r === "GET /demo/token").length).toBeLessThanOrEqual(2);
    expect(http.filter((r) => r === "GET /demo/outbox").length).toBeLessThanOrEqual(2);

    await screenshot(page, "signup.png");
    await page.close();
  });

  it("says why an invalid email is refused and sends nothing", async () => {
    const page = await openSignup();
    const posts: string[] = [];
    page.on("request", (r) => r.method() === "POST" && posts.push(r.url()));
    await page.fill("#name", "Bad Address");
    await page.fill("#email", "bad-address@");
    await page.click("button[type=submit]");
    const error = page.getByTestId("email-error");
    await error.waitFor();
    expect(await error.textContent()).toBe("email must be a valid address");
    expect(await page.getAttribute("#email", "aria-invalid")).toBe("true");
    expect(posts).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "signup-invalid.png") });
    await page.close();
  });

  it("turns a double submit into one user, one event and one email", async () => {
    const page = await openSignup();
    const email = uniqueEmail("grace");
    const { user } = await submit(page, "Grace Hopper", email, "Welcome aboard");
    // The same form again, and two more requests racing each other.
    const again = await submit(page, "Grace Hopper", email, "Already registered");
    expect(again).toMatchObject({ created: false, duplicate: true, user });
    expect(await page.getByTestId("signup-outcome").textContent()).toContain("the log answered duplicate");
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
    expect((await registrationsOf(email)).map((e) => e.id)).toEqual([`user-registered-${user.userId}`]);
    await page.getByTestId("outbox-email").waitFor();
    expect(await outboxCount(page)).toBe(1);
    expect((await eventsOf(`notifications.${user.userId}`)).map((e) => e.type)).toEqual(["WelcomeEmailSent"]);
    expect(await flowTypes(page)).toEqual(["UserRegistered", "WelcomeEmailSent"]);
    // The page is present on the user's topic (usePresence), as the user: the console's "Here" counts it.
    const presence = await operatorJson<PresencePage>(`/v1/topics/notifications.${user.userId}/presence`);
    expect(presence).toMatchObject({
      occupancy: { members: 1, connections: 1 },
      members: [{ member: user.userId, data: { page: "signup" } }],
    });

    // A reload picks the flow up again from the visitor's newest signup, without a toast for the old email.
    await page.reload();
    await page.locator('[data-testid=flow-item][data-type="WelcomeEmailSent"]').waitFor();
    expect(await flowTypes(page)).toEqual(["UserRegistered", "WelcomeEmailSent"]);
    expect(await page.getByTestId("toast").count()).toBe(0);
    await page.close();
  });

  it("with this visitor's switch on, shows each failed attempt, then exactly one email after recovery", async () => {
    const page = await openSignup();
    const toggle = page.getByTestId("failure-switch");
    await toggle.click();
    await page.locator('[data-testid=failure-switch][aria-checked="true"]').waitFor();

    const email = uniqueEmail("margaret");
    const { user } = await submit(page, "Margaret Hamilton", email, "Welcome aboard");
    // Two failed attempts: the first delivery and one retry, each visible as it happens.
    await page
      .locator('[data-testid=flow-item][data-type="NotificationAttemptFailed"]')
      .nth(1)
      .waitFor({ timeout: DELIVERY });
    expect(await outboxCount(page)).toBe(0);
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

    await page.getByTestId("outbox-email").waitFor();
    expect(await outboxCount(page)).toBe(1);
    const emails = (await eventsOf(`notifications.${user.userId}`)).filter((e) => e.type === "WelcomeEmailSent");
    expect(emails).toHaveLength(1);
    await screenshot(page, "signup-retries.png");
    await page.close();
  });
});

describe("privacy: two visitors at once", () => {
  it("each page subscribes only to its own notifications topic and never receives the other's events", async () => {
    const visitors = await Promise.all([newBrowser(), newBrowser()]);
    const pages = await Promise.all(visitors.map((v) => openSignup(v)));
    const sockets = pages.map(() => [] as string[]);
    const frames = pages.map(() => [] as string[]);
    const subscribed = pages.map(() => [] as string[]);
    pages.forEach((page, i) => {
      page.on("websocket", (ws) => {
        sockets[i].push(new URL(ws.url()).pathname);
        ws.on("framereceived", ({ payload }) => frames[i].push(String(payload)));
        ws.on("framesent", ({ payload }) => {
          const text = String(payload);
          if (text.startsWith("{")) subscribed[i].push((JSON.parse(text) as { topic: string }).topic);
        });
      });
    });

    const emails = [uniqueEmail("alice"), uniqueEmail("bob")];
    const answers = await Promise.all(
      pages.map((page, i) => submit(page, ["Alice", "Bob"][i], emails[i], "Welcome aboard")),
    );
    await Promise.all(pages.map((page) => page.getByTestId("toast").waitFor({ timeout: DELIVERY })));
    await Promise.all(pages.map((page) => page.getByTestId("outbox-email").waitFor()));

    for (const [i, page] of pages.entries()) {
      const own = answers[i].user;
      const other = answers[1 - i].user;
      expect(sockets[i].length).toBeGreaterThan(0);
      // One shared socket per page; the only topic it asks for is the visitor's own.
      expect(new Set(sockets[i])).toEqual(new Set(["/v1/ws"]));
      expect(new Set(subscribed[i])).toEqual(new Set([`notifications.${own.userId}`]));
      const received = frames[i].join("\n");
      expect(received).toContain(own.userId);
      expect(received).not.toContain(other.userId);
      expect(received).not.toContain(other.email);
      const text = (await page.textContent("body")) ?? "";
      expect(text).not.toContain(other.email);
      expect(await outboxCount(page)).toBe(1);
      expect(await page.getByTestId("outbox-email").textContent()).toContain(own.email);
      // Its backend will not hand this browser (its cookie) the other visitor's token or outbox either.
      for (const path of [`/demo/token?userId=${other.userId}`, `/demo/outbox?userId=${other.userId}`]) {
        expect((await page.request.get(`${server.url}${path}`)).status()).toBe(404);
      }
    }
    await Promise.all(pages.map((page) => page.close()));
  });
});

describe("the operator console", () => {
  it("shows the subscription, pauses and resumes it, tails a topic and redrives a dead letter", async () => {
    // A visitor whose own switch is on signs up from a script; the console sees every visitor's signups.
    const visitor = await scriptVisitor();
    expect((await visitor("PUT", "/demo/failure-switch", { failing: true })).status).toBe(200);
    const email = uniqueEmail("katherine");
    const signup = await visitor("POST", "/demo/users", { name: "Katherine Johnson", email });
    expect(signup.status).toBe(201);
    const { user } = signup.body as SignupAnswer;
    const eventId = `user-registered-${user.userId}`;
    const outbox = async () =>
      ((await visitor("GET", `/demo/outbox?userId=${user.userId}`)).body as OutboxAnswer).emails;

    const page = await browser.newPage();
    await page.goto(`${server.url}/console#key=${encodeURIComponent(OPERATOR_AUTH.authorization.slice(7))}`);
    const sub = page.locator('[data-testid=subscription-row][data-name="notification-service"]');
    await sub.waitFor();
    expect(await sub.textContent()).toContain("queue DELIVERY_QUEUE");
    await page.locator('[data-testid=topic-row][data-topic="users"]').waitFor();

    // The queue retries until its attempts run out; the dead letter then shows with its error.
    const deadLetters = async () => (await operatorJson<DeadLetterList>("/v1/dead-letters")).deadLetters;
    const letter = await eventually(async () => (await deadLetters()).find((d) => d.event.id === eventId), EXHAUSTED);
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

    expect((await visitor("PUT", "/demo/failure-switch", { failing: false })).status).toBe(200);
    await row.getByRole("button", { name: "Redrive" }).click();
    await page.getByTestId("redrive-notice").waitFor();
    await row.waitFor({ state: "detached", timeout: 10_000 });
    await expect.poll(async () => (await outbox()).length, { timeout: DELIVERY, interval: 500 }).toBe(1);
    const welcome = (await eventsOf(`notifications.${user.userId}`)).filter((e) => e.type === "WelcomeEmailSent");
    expect(welcome).toHaveLength(1);
    await page.close();

    if (process.env.UPDATE_DOC_SCREENSHOTS) {
      mkdirSync(DOC_SHOTS, { recursive: true });
      copyFileSync(join(SHOTS, "signup-retries.png"), join(DOC_SHOTS, "signup.png"));
      copyFileSync(join(SHOTS, "console.png"), join(DOC_SHOTS, "console.png"));
    }
  }, 240_000);
});
