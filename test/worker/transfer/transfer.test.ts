import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PART_BYTES } from "../../../src/storage/layout";
import { runDue } from "../../helpers/durable";
import { requestsTo, route } from "../../helpers/fake-net";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { sendCallback, successBody, uniqueTaskId, waitForState, getTask } from "../../helpers/worker";

afterEach(() => {
  vi.useRealTimers();
});

/** A body sent in small chunks with no Content-Length (Transfer-Encoding: chunked). */
function chunked(bytes: Uint8Array, chunk = 64 * 1024, opts: { stopAfter?: number } = {}): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (opts.stopAfter !== undefined && offset >= opts.stopAfter) {
        controller.error(new Error("connection reset"));
        return;
      }
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** Runs the task's alarm as if `ms` had passed (retries wait with backoff). */
async function advanceAndRunAlarm(taskId: string, ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
  await runDue(taskId);
}

describe("transfer", () => {
  it("a truncated body leaves no object and is retried, then stored", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 4 });
    let attempt = 0;
    route("GET", url, () => {
      attempt++;
      if (attempt === 1) {
        // Declares the full length but sends only half of it.
        return new Response(chunked(wav.slice(0, wav.length / 2)), { headers: { "content-length": String(wav.length) } });
      }
      return wavResponse(wav);
    });
    await sendCallback(successBody(taskId, url));
    const retrying = await waitForState(taskId, ["downloading"]);
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("truncated");
    expect(retrying.state).toBe("downloading");
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();

    await advanceAndRunAlarm(taskId, 31_000);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.attempts).toBe(2);
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
    expect(requestsTo(url)).toHaveLength(2);
  });

  it("a body cut off by a connection error leaves no object", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 4 });
    route("GET", url, () => new Response(chunked(wav, 4096, { stopAfter: 16384 })));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("source_interrupted");
    expect((await getTask(taskId))?.state).toBe("downloading");
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
    const uploads = await env.BUCKET.list({ prefix: `wav/${taskId}` });
    expect(uploads.objects).toHaveLength(0);
  });

  it("a chunked source (no Content-Length) is stored through a multipart upload", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    // Two full parts and a short last one.
    const wav = makeWav({ bytes: 2 * PART_BYTES + 123_456 });
    route("GET", url, () => new Response(chunked(wav, 256 * 1024)));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["stored", "failed"], 30_000);
    expect(task.state).toBe("stored");
    expect(task.wav?.size).toBe(wav.length);
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
    const object = await env.BUCKET.get(`wav/${taskId}.wav`);
    // Compared by digest: toEqual on 17 MB arrays exhausts vitest's diffing.
    expect(await sha256Hex(await object!.arrayBuffer())).toBe(await sha256Hex(wav));
    expect(object!.customMetadata).toEqual({ taskId, sourceUrl: url });
    // A multipart object's ETag names its part count.
    expect(object!.etag).toMatch(/-3$/);
  });

  it("an HTML error page served with 200 fails the task as not a WAV", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => new Response("<html><body>Access denied</body></html>", { headers: { "content-type": "text/html" } }));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("failed");
    expect(task.error?.code).toBe("not_a_wav");
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
  });
});
