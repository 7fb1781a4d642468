// Server-side sessions and the API reference in a real headless Chromium, against a `wrangler dev`
// of its own (README, "Dashboard" → "How a session works", "API description"): a copy of the
// session cookie stops working at sign-out; the settings page lists the sessions of several
// browsers, revokes one, and signs out everywhere; the API reference page renders from the worker
// alone, without a console error or a request to another origin.

import type { Browser, BrowserContext, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevWorker, workerVarsFor, type DevWorker } from "../e2e/harness.ts";
import { launch, screenshot } from "./browser.ts";

const KEYS = { apiToken: "browser-sessions-token-0123456789", hmacKey: "browser-sessions-hmac", sunoKey: "browser-sessions-suno" };
const SESSION_COOKIE = "wav_dashboard";

let dev: DevWorker;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // No provider is needed here: nothing is submitted or polled.
  dev = await startDevWorker({ vars: workerVarsFor({ url: "http://127.0.0.1:9", port: 9 }, KEYS, { OVERDUE_AFTER_SECONDS: "3600" }) });
  browser = await launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
});

/** A fresh browser profile (its own cookies), as another person's browser would be. */
async function freshPage(userAgent: string): Promise<Page> {
  const context = await browser.createBrowserContext();
  contexts.push(context);
  const page = await context.newPage();
  await page.setUserAgent(userAgent);
  await page.setViewport({ width: 1280, height: 800 });
  return page;
}

async function signIn(page: Page): Promise<void> {
  await page.goto(`${dev.url}/sign-in`);
  await page.type("#token", KEYS.apiToken);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  expect(new URL(page.url()).pathname).toBe("/");
}

async function cookieOf(page: Page) {
  return (await page.browserContext().cookies()).find((c) => c.name === SESSION_COOKIE);
}

async function pathAfterGoto(page: Page, path: string): Promise<string> {
  await page.goto(`${dev.url}${path}`);
  return new URL(page.url()).pathname;
}

describe("server-side sessions in Chromium", () => {
  it("a copy of the cookie taken before sign-out gets the sign-in page afterwards", async () => {
    const page = await freshPage("Chromium Original");
    await signIn(page);
    const cookie = await cookieOf(page);
    expect(cookie).toBeDefined();

    // The copy, in another browser profile: it opens the dashboard while the session lives.
    const thief = await freshPage("Chromium Copy");
    await thief.browserContext().setCookie({ ...cookie!, url: dev.url } as never);
    expect(await pathAfterGoto(thief, "/tasks")).toBe("/tasks");

    await page.goto(`${dev.url}/`);
    await Promise.all([page.waitForNavigation(), page.click("form[action='/sign-out'] button")]);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    expect(await cookieOf(page)).toBeUndefined();

    // The copy still has its cookie, and gets the sign-in page.
    expect((await cookieOf(thief))?.value).toBe(cookie!.value);
    expect(await pathAfterGoto(thief, "/tasks")).toBe("/sign-in");
    expect(await pathAfterGoto(thief, "/settings")).toBe("/sign-in");
    await screenshot(thief, "copied-cookie-after-sign-out");
  });

  it("the settings page lists every browser's session; revoke ends one there; sign out everywhere ends them all", async () => {
    const mine = await freshPage("Chromium Mine/1.0");
    const other = await freshPage("Chromium Other/2.0");
    const third = await freshPage("Chromium Third/3.0");
    await signIn(mine);
    await signIn(other);
    await signIn(third);

    await mine.goto(`${dev.url}/settings`);
    const rows = await mine.$$eval("tr[data-session]", (trs) =>
      trs.map((tr) => ({ key: tr.getAttribute("data-session")!, current: tr.getAttribute("data-current") === "true", text: tr.textContent ?? "" })),
    );
    const row = (ua: string) => rows.find((r) => r.text.includes(ua));
    expect(row("Chromium Mine/1.0")).toMatchObject({ current: true });
    expect(row("Chromium Mine/1.0")!.text).toContain("(this browser)");
    expect(row("Chromium Other/2.0")).toMatchObject({ current: false });
    expect(row("Chromium Third/3.0")).toBeDefined();
    // Signed in and last seen, as times a person reads.
    expect(row("Chromium Other/2.0")!.text).toMatch(/just now|ago/);
    await screenshot(mine, "settings-sessions");

    // Revoke the other browser's session.
    const otherKey = row("Chromium Other/2.0")!.key;
    await Promise.all([mine.waitForNavigation(), mine.click(`tr[data-session="${otherKey}"] button[type=submit]`)]);
    expect(new URL(mine.url()).search).toBe("?notice=revoked");
    expect(await mine.$eval("#sessions [role=status]", (e) => e.textContent)).toContain("Session revoked");
    expect(await mine.$(`tr[data-session="${otherKey}"]`)).toBeNull();
    expect(await pathAfterGoto(other, "/")).toBe("/sign-in");
    expect(await pathAfterGoto(third, "/")).toBe("/");

    // Sign out everywhere, after confirming: every browser is signed out, this one too.
    await mine.goto(`${dev.url}/settings`);
    mine.once("dialog", (d) => void d.accept());
    await Promise.all([mine.waitForNavigation(), mine.click("form[action='/sign-out-everywhere'] button")]);
    expect(new URL(mine.url()).pathname).toBe("/sign-in");
    expect(await pathAfterGoto(mine, "/")).toBe("/sign-in");
    expect(await pathAfterGoto(third, "/")).toBe("/sign-in");
  });
});

describe("the API reference page in Chromium", () => {
  it("opens from the dashboard and renders the document with Scalar, served by the worker alone, without a console error", async () => {
    const page = await freshPage("Chromium Reference");
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on("request", (r) => {
      if (!r.url().startsWith(dev.url) && !r.url().startsWith("data:")) foreign.push(r.url());
    });
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));

    await signIn(page);
    await Promise.all([page.waitForNavigation(), page.click("nav a[href='/api-reference']")]);
    expect(new URL(page.url()).pathname).toBe("/api-reference");
    // Scalar has read /openapi.json and shows the operations, by their summaries.
    await page.waitForFunction(() => (document.body.textContent ?? "").includes("Read a task"), { timeout: 30_000 });
    const text = await page.evaluate(() => document.body.textContent ?? "");
    for (const words of ["List tasks, newest first", "Download one of a task's files", "The provider's wav callback", "A stored WAV's waveform", "A task is stored or failed"]) {
      expect(text).toContain(words);
    }
    expect(await page.evaluate(() => document.compatMode)).toBe("CSS1Compat");
    await screenshot(page, "api-reference", { fullPage: false });
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  }, 120_000);
});
