// Look rather than read, in a real headless Chromium (README, "Waveforms" and "Dashboard"): a
// stored WAV's waveform under its player, with the play position over it and click-to-seek; the
// overview's charts drawn from a seeded set of tasks; the search box finding a task by its id, a
// track id and a music task id. The worker under `wrangler dev`, the provider simulator, and
// "your app" receiving the announcements (one answered 500 once, one refused with 410).

import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startDevWorker, workerVarsFor, type DevWorker } from "../e2e/harness.ts";
import { successCallback } from "../simulator/signature.ts";
import { startSimulator, type Simulator, type SimTask } from "../simulator/simulator.ts";
import { WorkerClient } from "../simulator/worker-client.ts";
import { startYourApp, type YourApp } from "../simulator/your-app.ts";
import { launch, screenshot } from "./browser.ts";

const KEYS = { apiToken: "look-api-token-0123456789abcdef", hmacKey: "look-hmac-key", sunoKey: "look-suno-key" };
const SECRET = `whsec_${Buffer.from("look-notify-secret-of-32-bytes!!").toString("base64")}`;
const WAV_SECONDS = 5;

let sim: Simulator;
let app: YourApp;
let dev: DevWorker;
let worker: WorkerClient;
let browser: Browser;
let page: Page;
const problems: string[] = [];
/** The seeded tasks. */
const seed = {
  waveform: "",
  stored: [] as string[],
  failed: [] as string[],
  retried: "",
  refused: "",
  music: null as SimTask | null,
  registered: { taskId: "", musicTaskId: "", audioId: "" },
  twins: { musicTaskId: "", taskIds: [] as string[] },
};

function submitWav(audioId: string, scenario: Parameters<Simulator["submit"]>[1]): SimTask {
  return sim.submit({ taskId: `music-${audioId}`, audioId, callBackUrl: `${dev.url}/callbacks/wav` }, scenario);
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: KEYS.sunoKey, hmacKey: KEYS.hmacKey, triggerCron: false, callbackDelayMs: 100 });
  const answered = new Map<string, number>();
  app = await startYourApp({
    secret: SECRET,
    port: 0,
    respond: (r) => {
      const taskId = r.payload?.data.taskId ?? "";
      const n = (answered.get(taskId) ?? 0) + 1;
      answered.set(taskId, n);
      if (taskId === seed.retried && n === 1) return 500; // delivered at the second attempt
      if (taskId === seed.refused) return 410; // given up at once
      return undefined;
    },
  });
  dev = await startDevWorker({ vars: workerVarsFor(sim, KEYS, { OVERDUE_AFTER_SECONDS: "3600", NOTIFY_URL: app.url, NOTIFY_SECRET: SECRET }) });
  worker = new WorkerClient(dev.url, KEYS.apiToken);

  // Stored: three WAVs (the first five seconds long, for its waveform), a music task, and the two
  // whose announcements go differently; failed: two with the provider's codes 451 and 500.
  const wavs = [submitWav("look-wave", { kind: "success", wav: { seconds: WAV_SECONDS } }), submitWav("look-2", { kind: "success", wav: { seconds: 1 } }), submitWav("look-3", { kind: "success", wav: { seconds: 1 } })];
  seed.waveform = wavs[0]!.taskId;
  seed.retried = `look-retried-${Date.now().toString(36)}`;
  seed.refused = `look-refused-${Date.now().toString(36)}`;
  for (const id of [seed.retried, seed.refused]) {
    const res = await sim.deliver(`${dev.url}/callbacks/wav`, successCallback(id, sim.wavUrl(id, { seconds: 1 })), id);
    expect(res.status).toBe(200);
  }
  const failed = [submitWav("look-f1", { kind: "failure", failureCode: 451, failureMsg: "source audio download failed" }), submitWav("look-f2", { kind: "failure", failureCode: 500, failureMsg: "internal error" })];
  seed.music = sim.submit({ product: "music", callBackUrl: `${dev.url}/callbacks/music` }, { kind: "success", product: "music", stageGapMs: 1100 });

  // Registered for a track (search by its audioId and its music task id), and two for one music task.
  seed.registered = { taskId: `look-reg-${Date.now().toString(36)}`, musicTaskId: `look-music-${Date.now().toString(36)}`, audioId: `look-audio-${Date.now().toString(36)}` };
  expect((await worker.register(seed.registered.taskId, { musicTaskId: seed.registered.musicTaskId, audioId: seed.registered.audioId })).status).toBe(201);
  seed.twins.musicTaskId = `look-twins-${Date.now().toString(36)}`;
  for (const n of [1, 2]) {
    const id = `look-twin-${n}-${Date.now().toString(36)}`;
    expect((await worker.register(id, { musicTaskId: seed.twins.musicTaskId, audioId: `look-twin-audio-${n}` })).status).toBe(201);
    seed.twins.taskIds.push(id);
    await new Promise((r) => setTimeout(r, 5));
  }

  for (const t of wavs) await worker.waitFor(t.taskId, ["stored"]);
  for (const t of failed) await worker.waitFor(t.taskId, ["failed"]);
  await worker.waitFor(seed.music!.taskId, ["stored"], { timeoutMs: 30_000 });
  await worker.waitFor(seed.retried, ["stored"]);
  await worker.waitFor(seed.refused, ["stored"]);
  seed.stored = [...wavs.map((t) => t.taskId), seed.music!.taskId, seed.retried, seed.refused];
  seed.failed = failed.map((t) => t.taskId);
  // Every announcement has ended: the retried one 5 s after its first attempt.
  const deadline = Date.now() + 30_000;
  const ended = (s: string | undefined) => s === "delivered" || s === "failed";
  for (const id of [...seed.stored, ...seed.failed]) {
    while (!ended((await worker.get(id))?.notification?.state) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  }

  browser = await launch();
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error on ${page.url()}: ${(e as Error).message}`));
  await page.goto(`${dev.url}/sign-in`);
  await page.type("#token", KEYS.apiToken);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  expect(new URL(page.url()).pathname).toBe("/");
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
  await app?.stop();
  await sim?.stop();
});

/** The waveform's play position as drawn: the played overlay's width, in columns. */
const playedColumns = (p: Page) => p.$eval("svg.wave .wave-played", (r) => Number(r.getAttribute("width")));

describe("waveforms, charts and search in Chromium", () => {
  it("a stored WAV's waveform has a column per bucket; a click seeks the player there and the play position follows", async () => {
    const name = `${seed.waveform}.wav`;
    const peaks = (await (await fetch(`${dev.url}/api/tasks/${seed.waveform}/files/${name}/peaks`, { headers: { authorization: `Bearer ${KEYS.apiToken}` } })).json()) as { length: number; samples_per_pixel: number; sample_rate: number };
    expect(peaks.length).toBe(2000); // 5 s at 48 kHz: 240,000 frames, 120 to a bucket
    await page.goto(`${dev.url}/tasks/${seed.waveform}`);
    await page.waitForFunction(() => {
      const a = document.querySelector("audio");
      return a !== null && Number.isFinite(a.duration) && a.duration > 0;
    });
    const drawn = await page.$eval("svg.wave", (svg) => ({
      columns: (svg.querySelector(".wave-peaks")!.getAttribute("d") ?? "").match(/M/g)?.length ?? 0,
      declared: Number(svg.getAttribute("data-columns")),
      player: svg.getAttribute("data-player"),
      box: svg.getBoundingClientRect().toJSON() as DOMRect,
      peaksBox: (({ x, width }) => ({ x, width }))((svg.querySelector(".wave-peaks") as SVGGraphicsElement).getBBox()),
    }));
    expect(drawn.columns).toBe(peaks.length);
    expect(drawn.declared).toBe(peaks.length);
    expect(drawn.player).toBe(await page.$eval("audio", (a) => a.id));
    expect(drawn.box.width).toBeGreaterThan(600);
    expect(drawn.box.height).toBeGreaterThan(80);
    expect(drawn.peaksBox).toEqual({ x: 0, width: peaks.length }); // the columns span the whole width
    expect(await playedColumns(page)).toBe(0);

    const duration = await page.$eval("audio", (a) => a.duration);
    expect(duration).toBeCloseTo(WAV_SECONDS, 1);
    for (const fraction of [0.25, 0.7]) {
      await page.mouse.click(drawn.box.x + drawn.box.width * fraction, drawn.box.y + drawn.box.height / 2);
      await page.waitForFunction((want) => Math.abs(document.querySelector("audio")!.currentTime - want) < 0.05, {}, duration * fraction);
      expect(Math.abs((await playedColumns(page)) - peaks.length * fraction)).toBeLessThan(10);
      expect(await page.$eval("svg.wave", (s) => s.getAttribute("aria-valuetext"))).toBe(`0:0${Math.floor(duration * fraction)}`);
    }
    await screenshot(page, "task-waveform");

    // Playing moves the play position on by itself.
    const before = await playedColumns(page);
    await page.$eval("audio", (a) => {
      a.muted = true;
      void a.play();
    });
    await page.waitForFunction((from) => Number(document.querySelector("svg.wave .wave-played")!.getAttribute("width")) > from + 40, { timeout: 10_000 }, before);
    await page.$eval("audio", (a) => a.pause());

    // The keyboard seeks too: Home to the start.
    await page.$eval("svg.wave", (svg) => (svg as SVGElement).focus());
    expect(await page.evaluate(() => document.activeElement?.getAttribute("class"))).toBe("wave");
    await page.keyboard.press("Home");
    await page.waitForFunction(() => document.querySelector("audio")!.currentTime === 0);
    expect(await playedColumns(page)).toBe(0);
    expect(problems).toEqual([]);
  });

  it("the overview's charts show the seeded tasks: bars per hour, time to stored, failures by code, announcements", async () => {
    await page.goto(`${dev.url}/`);
    const hourly = await page.$$eval("#chart-hourly g.bar", (gs) =>
      gs.map((g) => ({
        stored: Number(g.getAttribute("data-stored")),
        failed: Number(g.getAttribute("data-failed")),
        title: g.querySelector("title")?.textContent ?? "",
        rects: [...g.querySelectorAll("rect")].map((r) => ({ cls: r.getAttribute("class"), ...(r.getBoundingClientRect().toJSON() as DOMRect) })),
      })),
    );
    // Seeded within the last minutes: one bar, or two when an hour began meanwhile.
    expect(hourly.length).toBeGreaterThanOrEqual(1);
    expect(hourly.length).toBeLessThanOrEqual(2);
    expect(hourly.reduce((n, h) => n + h.stored, 0)).toBe(seed.stored.length);
    expect(hourly.reduce((n, h) => n + h.failed, 0)).toBe(seed.failed.length);
    for (const h of hourly) {
      expect(h.title).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:00–\\d\\d:00 UTC: ${h.stored} stored, ${h.failed} failed$`));
      for (const r of h.rects) {
        expect(r.width).toBeGreaterThan(0);
        expect(r.height).toBeGreaterThan(0);
      }
      expect(h.rects.map((r) => r.cls)).toEqual([...(h.stored ? ["bar-stored"] : []), ...(h.failed ? ["bar-failed"] : [])]);
    }
    const axis = await page.$$eval("#chart-hourly .axis-text", (ts) => ts.map((t) => t.textContent));
    const highest = Math.max(...hourly.map((h) => h.stored + h.failed));
    expect(axis).toContain(String([1, 2, 5, 10, 20, 50].find((m) => m >= highest))); // the top of the count axis
    const today = new Date().toISOString().slice(0, 10);
    const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][new Date().getUTCDay()];
    expect(axis).toContain(`${weekday} ${new Date().getUTCDate()}`);
    expect(await page.$eval("#chart-hourly .chart-legend", (l) => l.textContent)).toBe(`stored (${seed.stored.length})failed (${seed.failed.length})`);

    // Time to stored: today's p50 and p95 bars with their values; the chart says they are estimates.
    const day = await page.$eval(`#chart-durations g.day[data-day="${today}"]`, (g) => ({
      stored: Number(g.getAttribute("data-stored")),
      bars: [...g.querySelectorAll("g.bar")].map((b) => ({ p: b.getAttribute("data-percentile"), value: b.querySelector("text")?.textContent ?? "", height: b.querySelector("rect")!.getBoundingClientRect().height })),
    }));
    expect(day.stored).toBe(seed.stored.length);
    expect(day.bars.map((b) => b.p)).toEqual(["p50", "p95"]);
    for (const b of day.bars) {
      expect(b.value).toMatch(/^\d+(\.\d)? (s|min)$/);
      expect(b.height).toBeGreaterThan(0);
    }
    expect(await page.$eval("#chart-durations figcaption", (f) => f.textContent)).toContain("estimated from log-scale histogram buckets");

    const failures = await page.$$eval("#chart-failures g.hbar", (gs) => gs.map((g) => [g.getAttribute("data-code"), g.getAttribute("data-count"), g.querySelector("text")?.textContent]));
    expect(failures.sort()).toEqual([
      ["451", "1", "451"],
      ["500", "1", "500"],
    ]);
    const announcements = await page.$$eval("#chart-announcements g.hbar", (gs) =>
      gs.map((g) => ({ outcome: g.getAttribute("data-outcome"), count: Number(g.getAttribute("data-count")), label: g.querySelector("text")?.textContent, title: g.querySelector("title")?.textContent })),
    );
    expect(announcements).toEqual([
      { outcome: "first", count: seed.stored.length - 2 + seed.failed.length, label: "delivered at first attempt", title: expect.stringContaining("delivered at the first attempt") },
      { outcome: "retried", count: 1, label: "delivered after retries", title: "1 announcement delivered after one or more failed attempts" },
      { outcome: "failed", count: 1, label: "failed", title: expect.stringContaining("1 announcement given up") },
    ]);
    await screenshot(page, "overview-charts");
    expect(problems).toEqual([]);
  });

  it("the search box finds a task by its id, by a track id and by a music task id", async () => {
    const find = async (q: string) => {
      await page.goto(`${dev.url}/settings`); // any page: the box is in every header
      await page.type("header .search input[name=q]", q);
      await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
      return new URL(page.url()).pathname;
    };
    // A task id.
    expect(await find(seed.waveform)).toBe(`/tasks/${seed.waveform}`);
    expect(await page.$eval(".task-title .mono", (e) => e.textContent)).toBe(seed.waveform);
    // A track id: the audioId a task was registered with, and a track of a music task.
    expect(await find(seed.registered.audioId)).toBe(`/tasks/${seed.registered.taskId}`);
    const track = seed.music!.content.tracks![1]!.id;
    expect(await find(track)).toBe(`/tasks/${seed.music!.taskId}`);
    expect(await page.$$eval(".track", (ts) => ts.map((t) => t.getAttribute("data-track")))).toContain(track);
    // A music task id that a task was registered for.
    expect(await find(seed.registered.musicTaskId)).toBe(`/tasks/${seed.registered.taskId}`);
    // Two tasks of one music task: a page listing both, newest first, each a link to its task.
    expect(await find(seed.twins.musicTaskId)).toBe("/search");
    const rows = await page.$$eval("#matches tr[data-task-id]", (rs) => rs.map((r) => [r.getAttribute("data-task-id"), r.querySelector("a")?.getAttribute("href")]));
    expect(rows).toEqual([...seed.twins.taskIds].reverse().map((id) => [id, `/tasks/${id}`]));
    expect(await page.$eval("main .search input[name=q]", (i) => (i as HTMLInputElement).value)).toBe(seed.twins.musicTaskId);
    await screenshot(page, "search-results");
    // Nothing matches: said so.
    expect(await find("no-such-id-anywhere")).toBe("/search");
    expect(await page.$eval("#no-match", (e) => e.textContent)).toBe("No task matches “no-such-id-anywhere”.");
    expect(problems).toEqual([]);
  });

  it("the new parts fit a 390 px phone", async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    try {
      for (const path of ["/", `/tasks/${seed.waveform}`, `/search?q=${seed.twins.musicTaskId}`]) {
        await page.goto(`${dev.url}${path}`, { waitUntil: "networkidle0" });
        expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(390);
      }
      await screenshot(page, "search-phone");
    } finally {
      await page.setViewport({ width: 1280, height: 800 });
    }
    expect(problems).toEqual([]);
  });
});

afterAll(() => {
  // The README's screenshots of these (UPDATE_SCREENSHOTS=1), as test/browser/dashboard.test.ts does.
  if (process.env.UPDATE_SCREENSHOTS !== "1") return;
  const shots = join(REPO_ROOT, "test/browser/screenshots");
  mkdirSync(shots, { recursive: true });
  for (const name of ["overview-charts"]) {
    try {
      copyFileSync(join(REPO_ROOT, "test/browser/artifacts", `${name}.png`), join(shots, `${name}.png`));
    } catch {
      // that test did not get as far as its screenshot
    }
  }
});
