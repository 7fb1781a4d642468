// WAV facts (issue 18, "WAV facts"): the header read while the bytes stream — sample rate, channels,
// bits per sample and so the duration — in the task (`wav.format`, and the file's `format`) and in
// the `wav.stored` announcement; a data chunk that declares more than arrived is `truncated`; the
// 0 and 0xFFFFFFFF sizes a streaming writer leaves mean unknown (the duration comes from the bytes).
import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { crashMidAttempt, prepareRunner, runDue } from "../helpers/durable";
import { NOTIFY_URL, requestsTo, route } from "../helpers/fake-net";
import { atTime } from "../helpers/objects";
import { rangedSource } from "../helpers/ranged-source";
import { sha256Hex, wavResponse } from "../helpers/wav";
import { api, getTask, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState } from "../helpers/worker";

const MiB = 1 << 20;

afterEach(() => {
  vi.useRealTimers();
});

interface WavSpec {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  frames: number;
  /** What the data chunk's size field says; default the real length. */
  declaredDataBytes?: number;
  /** A LIST chunk before `data` (headers longer than 44 bytes are common). */
  list?: boolean;
}

/** A PCM WAV with the given format; the audio bytes are a simple ramp. */
function wavFile(spec: WavSpec): Uint8Array<ArrayBuffer> {
  const blockAlign = spec.channels * (spec.bitsPerSample / 8);
  const dataBytes = spec.frames * blockAlign;
  const list = spec.list ? 8 + 10 : 0;
  const header = 12 + 24 + list + 8;
  const buf = new Uint8Array(header + dataBytes + (dataBytes % 2));
  const v = new DataView(buf.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => v.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, "RIFF");
  v.setUint32(4, buf.byteLength - 8, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, spec.channels, true);
  v.setUint32(24, spec.sampleRate, true);
  v.setUint32(28, spec.sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, spec.bitsPerSample, true);
  let at = 36;
  if (spec.list) {
    ascii(at, "LIST");
    v.setUint32(at + 4, 10, true);
    ascii(at + 8, "INFOISFT");
    at += 18;
  }
  ascii(at, "data");
  v.setUint32(at + 4, spec.declaredDataBytes ?? dataBytes, true);
  for (let i = header; i < header + dataBytes; i++) buf[i] = (i * 7) & 0xff;
  return buf;
}

async function storedWav(wav: Uint8Array, prefix = "facts") {
  const taskId = uniqueTaskId(prefix);
  const url = `https://cdn.example.com/${taskId}.wav`;
  route("GET", url, () => wavResponse(wav));
  await sendCallback(successBody(taskId, url));
  return { taskId, task: await waitForState(taskId, ["stored", "failed"]) };
}

type Announced = { type: string; data: { taskId: string; wav: { format?: unknown } | null; files: { name: string; format?: unknown }[] } };

function announced(taskId: string): Announced[] {
  return requestsTo(NOTIFY_URL)
    .map((r) => new Webhook(env.NOTIFY_SECRET!).verify(r.body ?? "", Object.fromEntries(r.headers)) as Announced)
    .filter((b) => b.data.taskId === taskId);
}

describe("WAV facts in the task and the announcement", () => {
  const cases: [string, WavSpec, number][] = [
    ["8-bit mono 8 kHz, 1 s", { sampleRate: 8000, channels: 1, bitsPerSample: 8, frames: 8000 }, 1],
    ["16-bit stereo 44.1 kHz, 0.5 s", { sampleRate: 44_100, channels: 2, bitsPerSample: 16, frames: 22_050 }, 0.5],
    ["24-bit stereo 48 kHz, 0.25 s, with a LIST chunk", { sampleRate: 48_000, channels: 2, bitsPerSample: 24, frames: 12_000, list: true }, 0.25],
  ];
  for (const [name, spec, seconds] of cases) {
    it(name, async () => {
      const wav = wavFile(spec);
      const { taskId, task } = await storedWav(wav);
      const format = { sampleRate: spec.sampleRate, channels: spec.channels, bitsPerSample: spec.bitsPerSample, durationSeconds: seconds };
      expect(task).toMatchObject({ state: "stored", wav: { size: wav.byteLength, sha256: await sha256Hex(wav), format } });
      expect(task.files[0]).toMatchObject({ state: "stored", format });

      await waitForAnnounced(taskId, ["stored"]);
      const [a] = announced(taskId);
      expect(a?.type).toBe("wav.stored");
      expect(a?.data.wav?.format).toEqual(format);
      expect(a?.data.files[0]?.format).toEqual(format);
    });
  }
});

describe("the data chunk's declared length", () => {
  /** A WAV whose header promises 16,000 bytes of audio, of which 6,000 came (Content-Length 6,044). */
  async function cutWav() {
    const full = wavFile({ sampleRate: 8000, channels: 1, bitsPerSample: 16, frames: 8000 });
    const cut = full.slice(0, 44 + 6000);
    const taskId = uniqueTaskId("facts-cut");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => wavResponse(cut));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("truncated");
    return { taskId, task: (await getTask(taskId))! };
  }

  it("longer than the bytes that arrived (Content-Length matching what arrived): truncated, retried", async () => {
    const { task } = await cutWav();
    expect(task.state).toBe("downloading");
    expect(task.wav).toBeNull();
    expect(task.nextAttemptAt).not.toBeNull();
    expect(task.error?.message).toContain("16044");
  });

  it("a WAV found truncated leaves no object under its key (SPEC, Storage)", async () => {
    const { taskId } = await cutWav();
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
  });

  it("a truncated WAV is never adopted as stored after a later attempt is interrupted", async () => {
    const full = wavFile({ sampleRate: 8000, channels: 1, bitsPerSample: 16, frames: 8000 });
    const cut = full.slice(0, 44 + 6000);
    const taskId = uniqueTaskId("facts-adopt");
    const url = `https://cdn.example.com/${taskId}.wav`;
    let serve = cut;
    route("GET", url, () => wavResponse(serve));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("truncated");
    // The next attempt dies with its isolate (nothing written); the one after may adopt what an
    // interrupted attempt committed. The provider serves the whole file by then.
    expect(await crashMidAttempt(taskId)).toBe(true);
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("interrupted");
    serve = full;
    const waiting = (await getTask(taskId))!;
    await atTime(Date.parse(waiting.nextAttemptAt!) + 1_000, () => runDue(taskId));
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.wav).toMatchObject({ size: full.byteLength, sha256: await sha256Hex(full) });
  });

  for (const declared of [0, 0xffffffff]) {
    it(`${declared === 0 ? "0" : "0xFFFFFFFF"} (a streamed WAV) is unknown: stored, the duration from the bytes`, async () => {
      const wav = wavFile({ sampleRate: 16_000, channels: 1, bitsPerSample: 16, frames: 12_000, declaredDataBytes: declared });
      const { task } = await storedWav(wav, "facts-stream");
      expect(task).toMatchObject({ state: "stored", error: null, wav: { size: wav.byteLength, format: { sampleRate: 16_000, channels: 1, bitsPerSample: 16, durationSeconds: 0.75 } } });
    });
  }
});

describe("a WAV that went up in parts and was resumed", () => {
  it("keeps its facts from the header the first attempt read", { timeout: 120_000 }, async () => {
    const size = 70 * MiB + 44;
    const source = rangedSource(size); // 16-bit mono 8 kHz (test/helpers/wav.ts)
    const taskId = uniqueTaskId("facts-resume");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, (req) => source.handler(req));
    await api(`/api/tasks/${taskId}`, { method: "PUT" });
    const runner = await prepareRunner(taskId);
    await runInDurableObject(runner, (instance) => {
      const self = instance as unknown as { env: Env };
      self.env = { ...self.env, MAX_WAV_BYTES: String(256 * MiB) };
    });
    source.behaviour.cutAfter = 30 * MiB;
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 30_000 }).toBe("source_interrupted");
    source.behaviour.cutAfter = undefined;
    const waiting = (await getTask(taskId))!;
    await atTime(Math.max(Date.now(), Date.parse(waiting.nextAttemptAt!)) + 1_000, () => runDue(taskId));
    const task = await waitForState(taskId, ["stored", "failed"], 90_000);
    expect(source.ranges[1]).toMatch(/^bytes=[1-9]\d*-$/); // it did resume
    const dataBytes = (size - 44) & ~1;
    expect(task).toMatchObject({ state: "stored", wav: { size, format: { sampleRate: 8000, channels: 1, bitsPerSample: 16, durationSeconds: Math.round((dataBytes / 16_000) * 1000) / 1000 } } });
  });
});
