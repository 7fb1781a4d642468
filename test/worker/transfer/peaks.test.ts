// Waveforms (README, "Waveforms"): min/max per bucket while the WAV streams, in audiowaveform's JSON,
// beside the file in R2 — the same whether the bytes came in one go, in odd chunks, or resumed.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { PeaksBuilder, type WaveformJson } from "../../../src/transfer/peaks";
import { parseWavHeader, type WavHeader } from "../../../src/transfer/wav-format";
import { prepareRunner, runDue } from "../../helpers/durable";
import { route } from "../../helpers/fake-net";
import { rangedSource } from "../../helpers/ranged-source";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, getTask, jsonOf, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

const MiB = 1 << 20;

/** A WAV of `frames` frames whose sample f of channel c is `sample(f, c)`. */
function wavOf(opts: { bits: 8 | 16 | 24 | 32; float?: boolean; channels: number; frames: number; sample: (f: number, c: number) => number }): Uint8Array {
  const bytes = opts.bits / 8;
  const data = opts.frames * opts.channels * bytes;
  const buf = new Uint8Array(44 + data);
  const v = new DataView(buf.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => v.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, "RIFF");
  v.setUint32(4, 36 + data, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, opts.float ? 3 : 1, true);
  v.setUint16(22, opts.channels, true);
  v.setUint32(24, 8000, true);
  v.setUint32(28, 8000 * opts.channels * bytes, true);
  v.setUint16(32, opts.channels * bytes, true);
  v.setUint16(34, opts.bits, true);
  ascii(36, "data");
  v.setUint32(40, data, true);
  let at = 44;
  for (let f = 0; f < opts.frames; f++) {
    for (let c = 0; c < opts.channels; c++) {
      const s = opts.sample(f, c); // in -1..1
      if (opts.float) v.setFloat32(at, s, true);
      else if (opts.bits === 8) v.setUint8(at, Math.round(s * 127) + 128);
      else if (opts.bits === 16) v.setInt16(at, Math.round(s * 32767), true);
      else if (opts.bits === 24) {
        const n = Math.round(s * 8388607);
        v.setUint8(at, n & 0xff);
        v.setUint8(at + 1, (n >> 8) & 0xff);
        v.setUint8(at + 2, (n >> 16) & 0xff);
      } else v.setInt32(at, Math.round(s * 2147483647), true);
      at += bytes;
    }
  }
  return buf;
}

function peaksOf(wav: Uint8Array, chunks: number[] | null, knownLength = true): WaveformJson {
  const header = parseWavHeader(wav) as WavHeader;
  const frames = (wav.length - header.dataStart) / ((header.bitsPerSample / 8) * header.channels);
  const b = PeaksBuilder.start(header, knownLength ? frames : null);
  const audio = wav.subarray(header.dataStart);
  if (!chunks) b.push(audio);
  else {
    let at = 0;
    for (let i = 0; at < audio.length; i++) {
      const n = chunks[i % chunks.length]!;
      b.push(audio.subarray(at, at + n));
      at += n;
    }
  }
  return b.finish();
}

describe("peaks", () => {
  it("about 2,000 buckets per channel, min and max per channel, for 8/16/24/32-bit and float", () => {
    for (const spec of [{ bits: 8 }, { bits: 16 }, { bits: 24 }, { bits: 32 }, { bits: 32, float: true }] as const) {
      // Left: a ramp up from -0.5 to 0.5; right: silence but one spike of 0.9 in the middle.
      const frames = 40_000;
      const wav = wavOf({ ...spec, channels: 2, frames, sample: (f, c) => (c === 0 ? -0.5 + f / frames : f === frames / 2 ? 0.9 : 0) });
      const p = peaksOf(wav, null);
      expect(p).toMatchObject({ version: 2, channels: 2, sample_rate: 8000, samples_per_pixel: 20, bits: 16, length: 2000 });
      expect(p.data).toHaveLength(2000 * 2 * 2);
      const tol = spec.bits === 8 ? 512 : 2; // 8-bit samples are 256 apart in 16-bit terms
      expect(Math.abs(p.data[0]! - -16384)).toBeLessThanOrEqual(tol); // left min of the first bucket
      expect(Math.abs(p.data[p.data.length - 3]! - 16383)).toBeLessThanOrEqual(tol + 20); // left max of the last
      const rightMaxes = Array.from({ length: 2000 }, (_, b) => p.data[b * 4 + 3]!);
      expect(Math.abs(Math.max(...rightMaxes) - Math.round(0.9 * 32767))).toBeLessThanOrEqual(tol);
      expect(rightMaxes.filter((m) => m > 0)).toHaveLength(1);
    }
  });

  it("the same waveform whatever the chunks the bytes arrive in (frames split across them too)", () => {
    for (const bits of [16, 24] as const) {
      const wav = wavOf({ bits, channels: 2, frames: 30_001, sample: (f, c) => Math.sin((f + c * 7) / 37) * 0.8 });
      const whole = peaksOf(wav, null);
      expect(peaksOf(wav, [1, 3, 5, 7, 1001, 4096, 13])).toEqual(whole);
      expect(peaksOf(wav, [65_536])).toEqual(whole);
    }
  });

  it("a state saved as JSON right at a bucket's edge resumes to the same waveform (an empty bucket's extremes survive JSON)", () => {
    // Silence far from 0 on every sample: a bucket's min and max are never 0.
    const wav = wavOf({ bits: 16, channels: 2, frames: 40_000, sample: (f, c) => (c === 0 ? 0.5 : -0.5) + Math.sin(f / 9) * 0.1 });
    const header = parseWavHeader(wav) as WavHeader;
    const audio = wav.subarray(header.dataStart);
    const whole = peaksOf(wav, null);
    const edge = whole.samples_per_pixel * 4 * 100; // bytes through exactly 100 buckets (2 channels × 2 bytes)
    const first = PeaksBuilder.start(header, 40_000);
    first.push(audio.subarray(0, edge));
    const resumed = PeaksBuilder.resume(JSON.parse(JSON.stringify(first.save())));
    resumed.push(audio.subarray(edge));
    expect(resumed.finish()).toEqual(whole);
  });

  it("an unknown length: buckets widen as the audio goes on, never more than 4,096, same extremes", () => {
    const wav = wavOf({ bits: 16, channels: 1, frames: 2_000_000, sample: (f) => Math.sin(f / 50) * (f / 2_000_000) });
    const p = peaksOf(wav, [100_000], false);
    expect(p.length).toBeGreaterThanOrEqual(2048);
    expect(p.length).toBeLessThanOrEqual(4096);
    expect(p.samples_per_pixel * (p.length - 1)).toBeLessThan(2_000_000); // every bucket but the last is whole
    expect(p.samples_per_pixel * p.length).toBeGreaterThanOrEqual(2_000_000);
    const known = peaksOf(wav, null);
    expect(Math.max(...p.data)).toBe(Math.max(...known.data));
    expect(Math.min(...p.data)).toBe(Math.min(...known.data));
  });

  it("a stored WAV's waveform is served beside it, said in the task, and goes with DELETE", async () => {
    const taskId = uniqueTaskId("peaks");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 2 });
    route("GET", url, () => wavResponse(wav));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.files[0]!.waveform).toEqual({ available: true });
    const res = await api(`/api/tasks/${taskId}/files/${taskId}.wav/peaks`);
    expect(res.status).toBe(200);
    const p = (await jsonOf(res)) as WaveformJson;
    expect(p).toMatchObject({ version: 2, channels: 1, sample_rate: 8000, bits: 16, length: 2000 });
    expect(p.data).toHaveLength(4000);
    expect(await env.BUCKET.head(`wav/${taskId}.wav.peaks.json`)).not.toBeNull();
    expect(task.files.map((f) => f.name)).toEqual([`${taskId}.wav`]); // not one of the task's files
    await api(`/api/tasks/${taskId}`, { method: "DELETE" });
    await expect.poll(() => env.BUCKET.head(`wav/${taskId}.wav.peaks.json`), { timeout: 5_000 }).toBeNull();
  });

  it("a transfer resumed half-way gives the very waveform an uninterrupted one gives", async () => {
    const size = 70 * MiB;
    const whole = rangedSource(size);
    const cut = rangedSource(size);
    const [a, b] = [uniqueTaskId("peaks"), uniqueTaskId("peaks")];
    route("GET", `https://cdn.example.com/${a}.wav`, (req) => whole.handler(req));
    route("GET", `https://cdn.example.com/${b}.wav`, (req) => cut.handler(req));
    for (const id of [a, b]) {
      await api(`/api/tasks/${id}`, { method: "PUT" });
      const runner = await prepareRunner(id);
      await runInDurableObject(runner, (instance) => {
        const self = instance as unknown as { env: Env };
        self.env = { ...self.env, MAX_WAV_BYTES: String(256 * MiB) };
      });
    }
    cut.behaviour.cutAfter = 37 * MiB;
    await sendCallback(successBody(a, `https://cdn.example.com/${a}.wav`));
    await sendCallback(successBody(b, `https://cdn.example.com/${b}.wav`));
    await waitForState(a, ["stored"], 60_000);
    await expect.poll(async () => (await getTask(b))?.error?.code, { timeout: 20_000 }).toBe("source_interrupted");
    cut.behaviour.cutAfter = undefined;
    const due = Date.parse((await getTask(b))!.nextAttemptAt!);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(due + 1_000);
    try {
      await runDue(b);
    } finally {
      vi.useRealTimers();
    }
    await waitForState(b, ["stored"], 60_000);
    expect(cut.ranges[1]).toMatch(/^bytes=\d+-$/); // it did resume
    const pa = await jsonOf(await api(`/api/tasks/${a}/files/${a}.wav/peaks`));
    const pb = await jsonOf(await api(`/api/tasks/${b}/files/${b}.wav/peaks`));
    expect(pb).toEqual(pa);
  });
});
