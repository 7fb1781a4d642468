// Look rather than read (README, "Waveforms" and "Dashboard"): a stored WAV's waveform drawn under
// its player, or why there is none; the overview's charts; the search box and where it goes. The
// browser suite clicks and plays them; these pin what the server sends.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ChartsSection, niceMax, secondsText } from "../../../src/dashboard/pages/charts";
import { chartsOf } from "../../../src/shard/charts";
import { clockTime, MAX_COLUMNS, waveformOf } from "../../../src/dashboard/waveform";
import { hourOf } from "../../../src/task/stats";
import { shardOf } from "../../helpers/durable";
import { route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { page, signIn, textOf } from "../../helpers/dashboard";
import { api, call, clockTick, jsonOf, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

async function storedWav(bytes: Uint8Array): Promise<string> {
  const taskId = uniqueTaskId("look");
  const url = `https://cdn.example.com/${taskId}.wav`;
  route("GET", url, () => wavResponse(bytes));
  await sendCallback(successBody(taskId, url));
  await waitForState(taskId, ["stored"]);
  return taskId;
}

/** A WAV of 64-bit float samples: a WAV, but not one waveforms are read from. */
function float64Wav(): Uint8Array {
  const frames = 800;
  const buf = new Uint8Array(44 + frames * 8);
  const v = new DataView(buf.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => v.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, "RIFF");
  v.setUint32(4, 36 + frames * 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 3, true); // IEEE float
  v.setUint16(22, 1, true);
  v.setUint32(24, 8000, true);
  v.setUint32(28, 8000 * 8, true);
  v.setUint16(32, 8, true);
  v.setUint16(34, 64, true);
  ascii(36, "data");
  v.setUint32(40, frames * 8, true);
  for (let i = 0; i < frames; i++) v.setFloat64(44 + i * 8, Math.sin(i / 10) / 2, true);
  return buf;
}

describe("the waveform under a stored WAV's player", () => {
  it("one column per bucket of its peaks, tied to the player by id, with no inline script or style", async () => {
    const cookie = await signIn();
    const taskId = await storedWav(makeWav({ seconds: 2 })); // 16,000 frames: 2,000 buckets of 8
    const peaks = await jsonOf(await api(`/api/tasks/${taskId}/files/${taskId}.wav/peaks`));
    expect(peaks.length).toBe(2000);
    const html = await page(`/tasks/${taskId}`, cookie);
    expect(html).toContain('<audio id="wav-player"');
    const svg = /<svg class="wave"[^>]*>/.exec(html)![0];
    expect(svg).toContain('data-player="wav-player"');
    expect(svg).toContain(`data-columns="2000"`);
    expect(svg).toContain('data-duration="2"');
    expect(svg).toContain('viewBox="0 0 2000 100"');
    const d = /<path class="wave-peaks" d="([^"]+)"/.exec(html)![1]!;
    const columns = d.match(/M\d+ /g)!;
    expect(columns).toHaveLength(2000);
    expect(columns.map((m) => Number(m.slice(1)))).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    // A sine of amplitude 12000/32768 fills a band around the middle, in every column.
    for (const [, top, height] of d.matchAll(/M\d+ ([\d.]+)h1v([\d.]+)h-1z/g)) {
      expect(Number(top)).toBeGreaterThan(10);
      expect(Number(top) + Number(height)).toBeLessThan(90);
    }
    expect(textOf(html)).toContain("2,000 columns of 8 samples each (1.0 ms), 0:00 to 0:02.0");
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
    expect(html).not.toMatch(/\sstyle=/);
  });

  it("a WAV whose samples are not read for waveforms says why, in words", async () => {
    const cookie = await signIn();
    const taskId = await storedWav(float64Wav());
    const task = await jsonOf(await api(`/api/tasks/${taskId}`));
    expect(task.files[0].waveform).toEqual({ available: false, reason: "64-bit float samples are not read for waveforms" });
    const html = await page(`/tasks/${taskId}`, cookie);
    expect(html).not.toContain('<svg class="wave"');
    expect(textOf(html)).toContain("No waveform: 64-bit float samples are not read for waveforms.");
  });

  it("a WAV stored before waveforms were made, or whose peaks are gone from R2, says so", async () => {
    const cookie = await signIn();
    const old = await storedWav(makeWav({ seconds: 0.5 }));
    // As the version before waveforms stored it: no waveform in the row.
    await runInDurableObject(shardOf(old), (_i, state) => {
      state.storage.sql.exec("UPDATE tasks SET data = json_remove(data, '$.files[0].stored.waveform') WHERE task_id = ?", old);
    });
    expect(textOf(await page(`/tasks/${old}`, cookie))).toContain("No waveform: this WAV was stored before waveforms were made.");

    const lost = await storedWav(makeWav({ seconds: 0.5 }));
    await env.BUCKET.delete(`wav/${lost}.wav.peaks.json`);
    expect(textOf(await page(`/tasks/${lost}`, cookie))).toContain(`No waveform: its peaks could not be read: ${lost}.wav's waveform is not in R2.`);
  });

  it("reads audiowaveform's JSON leniently: channels merged, 8 or 16 bits, version 1 without channels", () => {
    expect(waveformOf({ version: 2, channels: 2, sample_rate: 8000, samples_per_pixel: 4, bits: 16, length: 2, data: [-100, 200, -300, 50, 0, 16384, -32768, 0] })).toEqual({
      columns: [
        { min: -300 / 32768, max: 200 / 32768 },
        { min: -1, max: 0.5 },
      ],
      channels: 2,
      sampleRate: 8000,
      samplesPerPixel: 4,
      seconds: 0.001,
    });
    expect(waveformOf({ version: 1, sample_rate: 100, samples_per_pixel: 10, bits: 8, length: 1, data: [-64, 127] })).toMatchObject({ columns: [{ min: -0.5, max: 127 / 128 }], channels: 1, seconds: 0.1 });
    // `length` beyond the data: only whole buckets are drawn.
    expect(waveformOf({ version: 2, channels: 1, sample_rate: 10, samples_per_pixel: 1, bits: 16, length: 5, data: [0, 1, 0, 1, 0] })!.columns).toHaveLength(2);
    for (const bad of [null, "x", {}, { version: 2, channels: 0, sample_rate: 1, samples_per_pixel: 1, bits: 16, length: 1, data: [0, 0] }, { version: 2, channels: 1, sample_rate: 1, samples_per_pixel: 1, bits: 24, length: 1, data: [0, 0] }, { version: 2, channels: 1, sample_rate: 1, samples_per_pixel: 1, bits: 16, length: 0, data: [] }]) {
      expect(waveformOf(bad)).toBeNull();
    }
    const long = { version: 2, channels: 1, sample_rate: 10, samples_per_pixel: 1, bits: 16, length: MAX_COLUMNS + 5, data: new Array((MAX_COLUMNS + 5) * 2).fill(0) };
    expect(waveformOf(long)!.columns).toHaveLength(MAX_COLUMNS);
    expect([clockTime(4.21), clockTime(65), clockTime(600.7)]).toEqual(["0:04.2", "1:05", "10:00"]);
  });
});

describe("the overview's charts", () => {
  it("the last 7 days in SVG: this hour's stored and failed tasks as a labelled bar, every chart with its words", async () => {
    const cookie = await signIn();
    const stored = await storedWav(makeWav({ seconds: 0.2 }));
    const failed = uniqueTaskId("look");
    await sendCallback({ code: 536, msg: "nope", data: { task_id: failed } });
    await waitForState(failed, ["failed"]);
    expect(stored).toBeTruthy();
    const html = await page("/", cookie);
    for (const id of ["chart-hourly", "chart-durations", "chart-failures", "chart-announcements"]) expect(html).toContain(`id="${id}"`);
    const hour = new Date(hourOf(Date.now()) * 3_600_000).toISOString();
    const bar = new RegExp(`<g class="bar" data-hour="${hour}" data-stored="(\\d+)" data-failed="(\\d+)"><title>([^<]+)</title>`).exec(html);
    expect(bar, "this hour's bar").not.toBeNull();
    expect(Number(bar![1])).toBeGreaterThanOrEqual(1);
    expect(Number(bar![2])).toBeGreaterThanOrEqual(1);
    expect(bar![3]).toBe(`${hour.slice(0, 10)} ${hour.slice(11, 16)}–${new Date(Date.parse(hour) + 3_600_000).toISOString().slice(11, 16)} UTC: ${bar![1]} stored, ${bar![2]} failed`);
    expect(html).toMatch(/<g class="hbar" data-code="536" data-count="1"><title>536: 1 task failed with this code in the last 7 days<\/title>/);
    const text = textOf(html);
    expect(text).toContain("Tasks stored and failed per hour");
    expect(text).toContain("estimated from log-scale histogram buckets (4 per doubling of time), so each is within ±9% of the true value");
    expect(text).toContain("Announcement delivery");
  });

  it("draws known numbers: bars, axis marks and values; empty charts say so", () => {
    const now = Date.UTC(2026, 10, 26, 14, 30);
    const h = hourOf(now);
    const charts = chartsOf(
      [
        {
          hours: [
            { hour: h, metric: "stored", code: "", n: 3 },
            { hour: h - 1, metric: "failed", code: "not_a_wav", n: 2 },
            { hour: h, metric: "delivered_first", code: "", n: 3 },
            { hour: h, metric: "delivery_failed", code: "", n: 1 },
          ],
          durations: [{ day: Math.floor(now / 86_400_000), bucket: 17, n: 3 }], // 16–19 s
        },
        { hours: [{ hour: h, metric: "stored", code: "", n: 2 }], durations: [] },
      ],
      now,
    );
    expect(charts.totals).toEqual({ stored: 5, failed: 2 });
    const html = String(ChartsSection({ charts }));
    expect(html.match(/<g class="bar" data-hour=/g)).toHaveLength(2);
    expect(html).toContain(`data-hour="2026-11-26T14:00:00.000Z" data-stored="5" data-failed="0"`);
    expect(html).toContain(`data-hour="2026-11-26T13:00:00.000Z" data-stored="0" data-failed="2"`);
    expect(html).toContain('data-day="2026-11-26" data-stored="3"');
    expect(html).toContain("p50 17 s, p95 17 s (estimated from histogram buckets)");
    expect(html).toContain('<g class="hbar" data-outcome="first" data-count="3">');
    expect(html).toContain('<g class="hbar" data-outcome="failed" data-count="1">');
    expect(textOf(html)).toMatch(/Thu 26/); // the axis names the days
    const empty = String(ChartsSection({ charts: chartsOf([], now) }));
    expect(textOf(empty)).toContain("Nothing stored or failed in the last 7 days");
    expect(textOf(empty)).toContain("No task failed in the last 7 days.");
    expect(textOf(empty)).toContain("No announcement ended in the last 7 days.");
    expect([niceMax(0), niceMax(1), niceMax(3), niceMax(7), niceMax(11), niceMax(250)]).toEqual([1, 1, 5, 10, 20, 500]);
    expect([secondsText(0.5), secondsText(42), secondsText(210), secondsText(5400), secondsText(172_800)]).toEqual(["0.5 s", "42 s", "3.5 min", "1.5 h", "2.0 days"]);
  });
});

describe("find a task", () => {
  it("the header of every signed-in page has the search box; the sign-in page has none", async () => {
    const cookie = await signIn();
    for (const path of ["/", "/tasks", "/settings"]) expect(await page(path, cookie)).toContain('<form class="search" method="get" action="/search" role="search">');
    expect(await (await call("/sign-in")).text()).not.toContain('action="/search"');
    const res = await call("/search?q=x", { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/sign-in");
  });

  it("exactly one match goes to its page; several are listed with how they matched; none says so", async () => {
    const cookie = await signIn();
    const musicId = uniqueTaskId("m");
    const audioId = uniqueTaskId("a");
    const one = uniqueTaskId("look");
    await api(`/api/tasks/${one}`, { method: "PUT", body: JSON.stringify({ musicTaskId: musicId, audioId }) });
    for (const q of [one, audioId, musicId]) {
      const res = await call(`/search?q=${encodeURIComponent(q)}`, { headers: { cookie }, redirect: "manual" });
      expect(res.status, q).toBe(303);
      expect(res.headers.get("location")).toBe(`/tasks/${one}`);
    }
    await clockTick();
    const two = uniqueTaskId("look");
    await api(`/api/tasks/${two}`, { method: "PUT", body: JSON.stringify({ musicTaskId: musicId, audioId: uniqueTaskId("a") }) });
    const html = await page(`/search?q=${encodeURIComponent(musicId)}`, cookie);
    expect([...html.matchAll(/<tr data-task-id="([^"]+)" data-matched="([^"]+)">/g)].map((m) => [m[1], m[2]])).toEqual([
      [two, "musicTaskId"],
      [one, "musicTaskId"],
    ]);
    expect(textOf(html)).toContain(`2 tasks match “${musicId}”`);
    expect(textOf(html)).toContain("the music task it was registered for");
    // The query is shown back in the box, escaped.
    const none = await page(`/search?q=${encodeURIComponent('<b>"x"</b>')}`, cookie);
    expect(none).toContain('value="&lt;b&gt;&quot;x&quot;&lt;/b&gt;"');
    expect(none).not.toContain("<b>");
    expect(textOf(none)).toContain('No task matches “<b>"x"</b>”.');
    // An empty query asks for one.
    expect(textOf(await page("/search?q=", cookie))).toContain("Exactly one match goes straight to its task.");
  });
});
