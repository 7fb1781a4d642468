// Starts the system Chromium for the browser tests, and saves screenshots as test artifacts.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { REPO_ROOT } from "../e2e/harness.ts";

export const ARTIFACTS = join(REPO_ROOT, "test/browser/artifacts");

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

export function chromiumPath(): string {
  const found = CANDIDATES.find((p): p is string => p !== undefined && p !== "" && existsSync(p));
  if (!found) throw new Error("No Chromium found: apt-get install -y chromium (or set CHROMIUM_PATH).");
  return found;
}

export async function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in CI containers cannot use Chromium's sandbox; /dev/shm is often tiny there.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run", "--mute-audio"],
  });
}

export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: opts.fullPage ?? true });
  return path;
}
