// Faults on the way from the source to R2. In every case: no wrong object under
// wav/<taskId>.wav, and the task ends stored or failed with a reason.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { transferFile } from "../../../src/transfer/transfer";
import { runInDurableObject } from "cloudflare:test";
import { crashMidAttempt, prepareRunner, runDue } from "../../helpers/durable";
import { requestsTo, route } from "../../helpers/fake-net";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, getTask, jsonOf, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

afterEach(() => {
  vi.useRealTimers();
});

const MAX_WAV_BYTES = 32 * 1024 * 1024; // test/vitest.config.ts
const RECORD_INFO = "https://provider.test/api/v1/wav/record-info";

/** record-info's answer for a task whose WAV is at `url`. */
function recordWithUrl(taskId: string, url: string, successFlag = "SUCCESS"): Response {
  return Response.json({ code: 200, msg: "success", data: { taskId, successFlag, response: { audioWavUrl: url }, errorCode: null, errorMessage: null } });
}

async function retryNow(taskId: string, afterMs = 31_000) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + afterMs);
  await runDue(taskId);
  vi.useRealTimers();
}

async function settled(taskId: string, code: string) {
  await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe(code);
  return (await getTask(taskId))!;
}

/**
 * A task whose first attempt met a 503 and now waits to retry; later requests get `then`
 * (another 503 when not given).
 */
async function waitingToRetry(then?: () => Response): Promise<{ taskId: string; url: string }> {
  const taskId = uniqueTaskId("f");
  const url = `https://cdn.example.com/${taskId}.wav`;
  let n = 0;
  route("GET", url, () => (++n === 1 || !then ? new Response("busy", { status: 503 }) : then()));
  await sendCallback(successBody(taskId, url));
  await settled(taskId, "source_http_error");
  return { taskId, url };
}

/**
 * After an attempt the runtime cut off (with nothing checkpointed): it counts as a failure, with the
 * usual backoff (README, "Resumable transfers") — then the next attempt is asked for now.
 */
async function afterInterruption(taskId: string): Promise<void> {
  const waiting = await settled(taskId, "interrupted");
  expect(waiting.state).toBe("downloading");
  expect(Date.parse(waiting.nextAttemptAt!)).toBeGreaterThan(Date.now() + 20_000);
  await retryNow(taskId, Date.parse(waiting.nextAttemptAt!) - Date.now() + 1_000);
}

/** Fault injection over the real binding: every call goes to R2 except the one made to fail. */
function failing(bucket: R2Bucket, method: "put" | "createMultipartUpload" | "get"): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      if (prop === method) return () => Promise.reject(new Error("We encountered an internal error. Please try again. (10001)"));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A lazily generated body: `total` bytes after a WAV header, never held whole. */
function generated(total: number, opts: { stallAfter?: number } = {}): ReadableStream<Uint8Array> {
  const header = makeWav({ bytes: 44 });
  let sent = 0;
  return new ReadableStream({
    async pull(c) {
      if (opts.stallAfter !== undefined && sent >= opts.stallAfter) {
        await new Promise(() => {}); // never sends another byte
      }
      if (sent >= total) return c.close();
      const chunk = sent === 0 ? header : new Uint8Array(Math.min(1 << 20, total - sent));
      sent += chunk.length;
      c.enqueue(chunk);
    },
  });
}

/** `bytes` in `chunk`-sized pieces, one every `everyMs`; silent for good after `silentAfter` bytes. */
function trickle(bytes: Uint8Array, chunk: number, everyMs: number, opts: { silentAfter?: number } = {}): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    async pull(c) {
      if (sent >= bytes.length) return c.close();
      if (opts.silentAfter !== undefined && sent >= opts.silentAfter) await new Promise(() => {});
      if (sent > 0) await new Promise((r) => setTimeout(r, everyMs));
      const n = sent === 0 ? 44 + chunk : chunk; // the header comes with the first piece
      c.enqueue(bytes.slice(sent, sent + n));
      sent += n;
    },
  });
}

describe("source faults", () => {
  it("5xx from the source is retried with backoff, then stored", async () => {
    const { taskId } = await waitingToRetry(() => wavResponse(makeWav({ seconds: 1 })));
    const retrying = (await getTask(taskId))!;
    expect(retrying.state).toBe("downloading");
    expect(retrying.error?.message).toContain("503");
    await retryNow(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ state: "stored", attempts: 2, error: null });
  });

  for (const status of [401, 403, 404, 410]) {
    it(`a ${status} from the source (an expired or moved link) asks record-info for a current URL and continues with it`, async () => {
      const taskId = uniqueTaskId("f");
      const url = `https://cdn.example.com/${taskId}.wav?sig=old`;
      const fresh = `https://cdn.example.com/${taskId}.wav?sig=new`;
      const wav = makeWav({ seconds: 1, seed: status });
      route("GET", url, () => new Response("expired link", { status }));
      route("GET", fresh, () => wavResponse(wav));
      route("GET", RECORD_INFO, () => recordWithUrl(taskId, fresh));
      await sendCallback(successBody(taskId, url));
      const waiting = await settled(taskId, "source_http_error");
      expect(waiting).toMatchObject({ state: "downloading", error: { message: `source answered HTTP ${status}` } });
      expect(waiting.nextAttemptAt).not.toBeNull();
      await retryNow(taskId);
      const task = await waitForState(taskId, ["stored", "failed"]);
      // Shown without its query string; the fetch shows which link was used.
      expect(task).toMatchObject({ state: "stored", attempts: 2, source: { url: `https://cdn.example.com/${taskId}.wav` } });
      expect(requestsTo(fresh)).toHaveLength(1);
      expect(task.wav?.sha256).toBe(await sha256Hex(wav));
      expect(requestsTo(`${RECORD_INFO}?taskId=${taskId}`)).toHaveLength(1);
      expect(requestsTo(url)).toHaveLength(1);
    });
  }

  it("a source that stalls is abandoned after the idle timeout and retried", async () => {
    const taskId = uniqueTaskId("f");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1 });
    let n = 0;
    route("GET", url, () =>
      ++n === 1 ? new Response(generated(4 << 20, { stallAfter: 1 << 20 }), { headers: { "content-length": String((4 << 20) + 44) } }) : wavResponse(wav),
    );
    await sendCallback(successBody(taskId, url));
    const stalled = await settled(taskId, "source_stalled");
    expect(stalled.state).toBe("downloading");
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
    await retryNow(taskId);
    expect((await waitForState(taskId, ["stored", "failed"])).wav?.sha256).toBe(await sha256Hex(wav));
  });

  it("a slow but steady source is not called stalled: the idle timeout measures silence", async () => {
    // 4 KiB every 200 ms for ~3 s with SOURCE_IDLE_TIMEOUT_SECONDS=1: far below 256 KiB per second.
    const taskId = uniqueTaskId("f");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ bytes: 44 + 15 * 4096 });
    route("GET", url, () => new Response(trickle(wav, 4096, 200), { headers: { "content-length": String(wav.length) } }));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["stored", "failed"], 20_000);
    expect(task.error).toBeNull();
    expect(task).toMatchObject({ state: "stored", attempts: 1 });
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
  });

  it("a source that trickles and then goes silent for longer than the timeout is still stalled", async () => {
    const taskId = uniqueTaskId("f");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ bytes: 44 + 15 * 4096 });
    route("GET", url, () => new Response(trickle(wav, 4096, 200, { silentAfter: 5 * 4096 }), { headers: { "content-length": String(wav.length) } }));
    await sendCallback(successBody(taskId, url));
    const stalled = await settled(taskId, "source_stalled");
    expect(stalled.state).toBe("downloading");
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
  });

  it("bytes that change between attempts: the object holds exactly the attempt that completed", async () => {
    const taskId = uniqueTaskId("f");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const first = makeWav({ seconds: 2, seed: 1 });
    const second = makeWav({ seconds: 2, seed: 9 });
    let n = 0;
    route("GET", url, () => {
      if (++n === 1) {
        const half = first.slice(0, first.length / 2);
        return new Response(new Blob([half]).stream(), { headers: { "content-length": String(first.length) } });
      }
      return wavResponse(second);
    });
    await sendCallback(successBody(taskId, url));
    await settled(taskId, "truncated");
    await retryNow(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.wav?.sha256).toBe(await sha256Hex(second));
    const object = await env.BUCKET.get(`wav/${taskId}.wav`);
    expect(await sha256Hex(await object!.arrayBuffer())).toBe(await sha256Hex(second));
  });

  it("a chunked body past MAX_WAV_BYTES is cut off while streaming and fails the task", async () => {
    const taskId = uniqueTaskId("f");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => new Response(generated(MAX_WAV_BYTES + (2 << 20))));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["failed", "stored"], 30_000);
    expect(task.error?.code).toBe("too_large");
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
  });

  it("a declared length past MAX_WAV_BYTES fails before any byte is read", async () => {
    const taskId = uniqueTaskId("f");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => new Response(generated(10), { headers: { "content-length": String(3 * 1024 ** 3) } }));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["failed", "stored"]);
    expect(task.error?.code).toBe("too_large");
    expect(task.error?.message).toContain("3221225472");
  });

  it("a JSON error page served with 200 is not a WAV", async () => {
    const taskId = uniqueTaskId("f");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => Response.json({ code: 404, msg: "file not found" }));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["failed", "stored"]);
    expect(task.error?.code).toBe("not_a_wav");
  });

  it("an isolate killed mid-transfer: the next alarm finds the orphaned attempt and resumes", async () => {
    const wav = makeWav({ seconds: 1 });
    const { taskId } = await waitingToRetry(() => wavResponse(wav));
    expect(await crashMidAttempt(taskId)).toBe(true);
    await afterInterruption(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ state: "stored", attempts: 3 });
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
  });
});

describe("crash after the commit", () => {
  it("an object committed just before the isolate died is adopted, not fetched again", async () => {
    const wav = makeWav({ seconds: 1, seed: 4 });
    const { taskId, url } = await waitingToRetry();
    // The attempt that died had written the object (R2 commits whole objects or nothing)…
    await env.BUCKET.put(`wav/${taskId}.wav`, wav, { httpMetadata: { contentType: "audio/wav" }, customMetadata: { taskId, sourceUrl: url } });
    // …but not its result: the row still says an attempt is running.
    await crashMidAttempt(taskId);
    await afterInterruption(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.wav).toEqual({ key: `wav/${taskId}.wav`, size: wav.length, sha256: await sha256Hex(wav), contentType: "audio/wav", format: expect.objectContaining({ sampleRate: 8000, channels: 1, bitsPerSample: 16 }) });
    expect(requestsTo(url)).toHaveLength(1); // only the first, failed attempt reached the source
    // It died before writing the waveform (README, "Waveforms"): the task says so.
    expect(task.files[0]!.waveform).toEqual({ available: false, reason: "the attempt that stored this WAV was cut off before its waveform was written" });
  });

  it("an adopted WAV keeps the waveform its attempt wrote beside it", async () => {
    const wav = makeWav({ seconds: 1, seed: 5 });
    const { taskId, url } = await waitingToRetry();
    await env.BUCKET.put(`wav/${taskId}.wav`, wav, { httpMetadata: { contentType: "audio/wav" }, customMetadata: { taskId, sourceUrl: url } });
    const peaks = { version: 2, channels: 1, sample_rate: 8000, samples_per_pixel: 4, bits: 16, length: 2000, data: new Array(4000).fill(0) };
    await env.BUCKET.put(`wav/${taskId}.wav.peaks.json`, JSON.stringify(peaks), { httpMetadata: { contentType: "application/json" } });
    await crashMidAttempt(taskId);
    await afterInterruption(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.files[0]!.waveform).toEqual({ available: true });
    expect(await jsonOf(await api(`/api/tasks/${taskId}/files/${taskId}.wav/peaks`))).toEqual(peaks);
  });

  it("reading a committed object back fails: the retry fetches afresh instead of burning attempts", async () => {
    const wav = makeWav({ seconds: 1, seed: 3 });
    const { taskId, url } = await waitingToRetry(() => wavResponse(wav));
    await env.BUCKET.put(`wav/${taskId}.wav`, makeWav({ seconds: 1, seed: 4 }), { customMetadata: { taskId, sourceUrl: url } });
    // The runner's R2 answers every get() with an error (the adoption reads the object back).
    const runner = await prepareRunner(taskId);
    await runInDurableObject(runner, (instance) => {
      const self = instance as unknown as { env: Env };
      self.env = { ...self.env, BUCKET: failing(env.BUCKET, "get") };
    });
    await crashMidAttempt(taskId, { evict: false });
    await afterInterruption(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ state: "stored", attempts: 3 });
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
    expect(requestsTo(url)).toHaveLength(2);
  });

  it("a multipart upload the dead attempt left behind is aborted when the source cannot give the rest", async () => {
    const wav = makeWav({ seconds: 1, seed: 7 });
    const { taskId } = await waitingToRetry(() => wavResponse(wav));
    const key = `wav/${taskId}.wav`;
    const leftover = await env.BUCKET.createMultipartUpload(key);
    const part = await leftover.uploadPart(1, new Uint8Array(6 << 20));
    // Its checkpoint says it got somewhere, so the attempt goes on at once — but this source answers
    // a Range with the whole file (200): the upload is aborted and the file fetched from byte 0.
    await crashMidAttempt(taskId, { leftover: { uploadId: leftover.uploadId, etag: part.etag, length: 6 << 20 } });
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
    // The leftover upload is gone: it can take no more parts and can never be completed.
    await expect(env.BUCKET.resumeMultipartUpload(key, leftover.uploadId).uploadPart(2, new Uint8Array(10))).rejects.toThrow();
    expect(await sha256Hex(await (await env.BUCKET.get(key))!.arrayBuffer())).toBe(await sha256Hex(wav));
  });

  it("an object that names another source is not adopted", async () => {
    const fresh = makeWav({ seconds: 1, seed: 5 });
    const { taskId, url } = await waitingToRetry(() => wavResponse(fresh));
    await env.BUCKET.put(`wav/${taskId}.wav`, makeWav({ seconds: 1, seed: 6 }), { customMetadata: { taskId, sourceUrl: "https://elsewhere.example.com/x.wav" } });
    await crashMidAttempt(taskId);
    await afterInterruption(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.wav?.sha256).toBe(await sha256Hex(fresh));
    expect(requestsTo(url)).toHaveLength(2);
  });
});

describe("refused sources (SSRF)", () => {
  for (const bad of [
    "http://cdn.example.com/x.wav",
    "https://127.0.0.1/x.wav",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.8/x.wav",
    "https://[::1]/x.wav",
    "https://localhost:8443/x.wav",
  ]) {
    it(`${bad} fails the task and no request leaves`, async () => {
      const taskId = uniqueTaskId("ssrf");
      await sendCallback(successBody(taskId, bad));
      const task = await waitForState(taskId, ["failed", "stored"]);
      expect(task.error?.code).toBe("source_refused");
      expect(requestsTo(bad)).toHaveLength(0);
    });
  }

  it("a redirect into a forbidden range is refused before it is followed", async () => {
    const taskId = uniqueTaskId("ssrf");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } }));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["failed", "stored"]);
    expect(task.error?.code).toBe("source_refused");
    expect(task.error?.message).toContain("169.254.169.254");
    expect(requestsTo("http://169.254.169.254/latest/meta-data/")).toHaveLength(0);
  });

  it("follows up to 3 redirects, checking each hop, and refuses a 4th", async () => {
    const ok = uniqueTaskId("redir");
    const wav = makeWav();
    for (let i = 0; i < 3; i++) {
      route("GET", `https://hop${i}.example.com/${ok}.wav`, () => new Response(null, { status: 301, headers: { location: `https://hop${i + 1}.example.com/${ok}.wav` } }));
    }
    route("GET", `https://hop3.example.com/${ok}.wav`, () => wavResponse(wav));
    await sendCallback(successBody(ok, `https://hop0.example.com/${ok}.wav`));
    const stored = await waitForState(ok, ["stored", "failed"]);
    expect(stored.state).toBe("stored");
    // The object's metadata names the URL the provider gave, not the last hop.
    expect((await env.BUCKET.head(`wav/${ok}.wav`))?.customMetadata?.sourceUrl).toBe(`https://hop0.example.com/${ok}.wav`);

    const tooMany = uniqueTaskId("redir");
    for (let i = 0; i < 4; i++) {
      route("GET", `https://hop${i}.example.com/${tooMany}.wav`, () => new Response(null, { status: 302, headers: { location: `https://hop${i + 1}.example.com/${tooMany}.wav` } }));
    }
    await sendCallback(successBody(tooMany, `https://hop0.example.com/${tooMany}.wav`));
    // Not final (the link may be refreshed): retried later, the 5th hop never fetched.
    const failed = await settled(tooMany, "too_many_redirects");
    expect(failed.state).toBe("downloading");
    expect(requestsTo(`https://hop4.example.com/${tooMany}.wav`)).toHaveLength(0);
  });
});

describe("storage faults", () => {
  for (const method of ["put", "createMultipartUpload"] as const) {
    it(`an R2 ${method} that fails is a retryable storage failure and leaves no object`, async () => {
      const taskId = uniqueTaskId("r2");
      const url = `https://cdn.example.com/${taskId}.wav`;
      const wav = makeWav({ seconds: 1 });
      route("GET", url, () => (method === "put" ? wavResponse(wav) : new Response(new Blob([wav]).stream())));
      const outcome = await transferFile({
        taskId,
        file: { key: `wav/${taskId}.wav`, contentType: "audio/wav", source: { url } },
        checkpoints: { load: () => null, save: () => {}, clear: () => {} },
        bucket: failing(env.BUCKET, method),
        allowlist: [],
        maxBytes: MAX_WAV_BYTES,
        maxSetting: "MAX_WAV_BYTES",
        idleTimeoutMs: 1000,
      });
      expect(outcome).toEqual({ ok: false, retryable: true, refreshUrl: false, error: { code: "storage_failed", message: expect.stringContaining("internal error") } });
      expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
    });
  }
});
