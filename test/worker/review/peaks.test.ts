// Review fixes to waveforms (README, "Waveforms"): a waveform is a nicety — none above 16
// channels (the file is stored as usual, and the task says why), and neither a waveform that
// cannot be computed nor one that cannot be written to R2 fails the transfer.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { WaveformTracker } from "../../../src/transfer/peaks";
import { prepareRunner } from "../../helpers/durable";
import { route } from "../../helpers/fake-net";
import { restoreEnv, swapEnv } from "../../helpers/objects";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, getTask, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";
import { headerOf } from "./helpers";

const swapped: DurableObjectStub[] = [];
afterEach(async () => {
  for (const stub of swapped.splice(0)) await restoreEnv(stub);
});

/** A 16-bit PCM WAV of `channels` channels and `frames` frames (a quiet ramp on every channel). */
function wavOfChannels(channels: number, frames: number): Uint8Array {
  const data = frames * channels * 2;
  const buf = new Uint8Array(44 + data);
  const v = new DataView(buf.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => v.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, "RIFF");
  v.setUint32(4, 36 + data, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, 8000, true);
  v.setUint32(28, 8000 * channels * 2, true);
  v.setUint16(32, channels * 2, true);
  v.setUint16(34, 16, true);
  ascii(36, "data");
  v.setUint32(40, data, true);
  for (let i = 0; i < frames * channels; i++) v.setInt16(44 + i * 2, (i % 2000) - 1000, true);
  return buf;
}

describe("waveforms", () => {
  it("a WAV of 17 channels is stored, with no waveform and the reason why", async () => {
    const taskId = uniqueTaskId("peaks");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = wavOfChannels(17, 400);
    route("GET", url, () => wavResponse(wav));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ state: "stored", error: null, wav: { size: wav.byteLength, sha256: await sha256Hex(wav), format: { channels: 17 } } });
    const waveform = task.files[0]!.waveform as { available: boolean; reason?: string };
    expect(waveform.available).toBe(false);
    expect(waveform.reason).toMatch(/at most 16 channels \(this file has 17\)/);
    expect(await env.BUCKET.head(`wav/${taskId}.wav.peaks.json`)).toBeNull();
    expect((await api(`/api/tasks/${taskId}/files/${taskId}.wav/peaks`)).status).toBe(404);
  });

  it("a waveform R2 refuses to write: the WAV is still stored (first time), and the task says why it has none", async () => {
    const taskId = uniqueTaskId("peaks");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 95 });
    route("GET", url, () => wavResponse(wav));
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    // The runner's R2 refuses every put of a waveform; everything else is the real binding.
    const runner = await prepareRunner(taskId);
    await swapEnv(runner, {
      BUCKET: new Proxy(env.BUCKET, {
        get(target, prop) {
          if (prop === "put") {
            return (key: string, ...rest: unknown[]) =>
              key.endsWith(".peaks.json")
                ? Promise.reject(new Error("We encountered an internal error. Please try again. (10001)"))
                : (target.put as (...a: unknown[]) => Promise<R2Object | null>)(key, ...rest);
          }
          const value = Reflect.get(target, prop) as unknown;
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    });
    swapped.push(runner);
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => { const t = await getTask(taskId); return t?.state === "stored" || t?.error !== null; }, { timeout: 10_000 }).toBe(true);
    const task = (await getTask(taskId))!;
    expect(task).toMatchObject({ state: "stored", error: null, attempts: 1, wav: { sha256: await sha256Hex(wav) } });
    const waveform = task.files[0]!.waveform as { available: boolean; reason?: string };
    expect(waveform.available).toBe(false);
    expect(waveform.reason).toMatch(/could not be written to R2/);
  });

  it("a waveform that cannot be computed (a checkpoint's state it cannot read) is no waveform, not an error", () => {
    const wav = makeWav({ seconds: 1, seed: 96 });
    const header = headerOf(wav);
    // A resumed transfer's waveform state as another version kept it (no split-frame bytes).
    const state = { channels: 1, sampleRate: 8000, bitsPerSample: 16, float: false, spp: 4, data: [], curMin: [0], curMax: [0], curFrames: 0 };
    const tracker = new WaveformTracker(true, { state } as never);
    expect(() => tracker.feed(wav.subarray(1000, 3001), 1000, header, wav.byteLength)).not.toThrow();
    expect(() => tracker.feed(wav.subarray(3001), 3001, header, wav.byteLength)).not.toThrow();
    const result = tracker.result();
    expect(result).toMatchObject({ none: expect.stringMatching(/^the waveform could not be computed/) });
    expect(tracker.progress()).toMatchObject({ none: expect.stringMatching(/^the waveform could not be computed/) });
  });
});
