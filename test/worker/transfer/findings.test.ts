// Issue 18's review findings about transfers, each driven through the real shard, runner and R2:
// a late success after the lease fired, a repeated report from before POST /retry, a body cut off
// before the type check had its bytes, and resume per file for a kind other than WAV.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { prepareRunner, runDue, shardOf, storedTask } from "../../helpers/durable";
import { NOTIFY_URL, requestsTo, route } from "../../helpers/fake-net";
import { atTime, runnerIdOf } from "../../helpers/objects";
import { rangedSource } from "../../helpers/ranged-source";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, getTask, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState } from "../../helpers/worker";

const MiB = 1 << 20;
const PART = 8 * MiB;
const LEASE_MS = 20 * 60_000;
const RETENTION_MS = 1_123_200_000; // test/vitest.config.ts
const RECORD_INFO = "https://provider.test/api/v1/wav/record-info";

afterEach(() => {
  vi.useRealTimers();
});

/** A source that answers only when `release(answer)` is called: an attempt that is slow to finish. */
function gatedSource(url: string, first?: () => Response): { release: (answer: () => Response) => void; requests: () => number } {
  let n = 0;
  let open!: (answer: () => Response) => void;
  const gate = new Promise<() => Response>((r) => (open = r));
  route("GET", url, async () => {
    n++;
    if (n === 1 && first) return first();
    return (await gate)();
  });
  return { release: (answer) => open(answer), requests: () => n };
}

/** The announcements the app received for one task (bodies as JSON). */
function announcementsFor(taskId: string): { type: string; data: { taskId: string } }[] {
  return requestsTo(NOTIFY_URL)
    .map((r) => JSON.parse(r.body ?? "{}") as { type: string; data: { taskId: string } })
    .filter((b) => b.data?.taskId === taskId);
}

/** A WAV task whose first attempt (epoch 1) is with the runner, fetching from a source that holds. */
async function attemptInFlight(seed: number) {
  const taskId = uniqueTaskId("late");
  const url = `https://cdn.example.com/${taskId}.wav`;
  const wav = makeWav({ seconds: 1, seed });
  const source = gatedSource(url);
  await sendCallback(successBody(taskId, url));
  await expect.poll(() => source.requests(), { timeout: 10_000 }).toBe(1);
  const task = (await storedTask(taskId))!;
  expect(task.files[0]!.running?.epoch).toBe(1);
  return { taskId, url, wav, source, task };
}

/** Runs the shard's alarm at `ms`: an attempt whose lease ended by then counts as lost. */
function shardAlarmAt(taskId: string, ms: number) {
  return atTime(ms, () => runDurableObjectAlarm(shardOf(taskId)));
}

describe("finding: a late success after the 20-minute lease fired", () => {
  it("is credited (adopted) when the object under the key is the one the attempt wrote", async () => {
    const { taskId, wav, source, task } = await attemptInFlight(31);
    await shardAlarmAt(taskId, task.files[0]!.running!.since + LEASE_MS + 60_000);
    const lost = (await storedTask(taskId))!;
    expect(lost.state).toBe("downloading");
    expect(lost.files[0]).toMatchObject({ running: null, error: { code: "interrupted" } });

    source.release(() => wavResponse(wav));
    const stored = await waitForState(taskId, ["stored", "failed"]);
    expect(stored).toMatchObject({ state: "stored", error: null, wav: { sha256: await sha256Hex(wav), size: wav.byteLength } });
    expect(source.requests()).toBe(1); // the late attempt's bytes, not fetched again
    const object = await env.BUCKET.get(`wav/${taskId}.wav`);
    expect(await sha256Hex(await object!.arrayBuffer())).toBe(await sha256Hex(wav));
  });

  it("near the retention horizon the task ends stored, not failed (and is announced stored only)", async () => {
    const { taskId, wav, source, task } = await attemptInFlight(32);
    // The lease ends so late that no further attempt fits before the provider's copy expires.
    await shardAlarmAt(taskId, task.files[0]!.knownAt + RETENTION_MS - 5_000);
    expect((await getTask(taskId))?.state).toBe("failed");

    source.release(() => wavResponse(wav));
    const done = await waitForAnnounced(taskId, ["stored"], 20_000);
    expect(done).toMatchObject({ state: "stored", error: null, wav: { sha256: await sha256Hex(wav) } });
    // The outcome the app hears is the one that stands.
    expect(announcementsFor(taskId).map((a) => a.type)).toEqual(["wav.stored"]);
  });

  for (const meanwhile of ["deleted", "replaced"] as const) {
    it(`is not credited when its object was ${meanwhile} meanwhile`, async () => {
      const { taskId, wav, source, task } = await attemptInFlight(meanwhile === "deleted" ? 33 : 34);
      await shardAlarmAt(taskId, task.files[0]!.running!.since + LEASE_MS + 60_000);
      const key = `wav/${taskId}.wav`;
      const meta = { httpMetadata: { contentType: "audio/wav" }, customMetadata: { taskId, sourceUrl: `https://cdn.example.com/${taskId}.wav` } };
      // What the late attempt wrote…
      const written = await env.BUCKET.put(key, wav, meta);
      // …is gone, or another object of the same size took its place.
      if (meanwhile === "deleted") await env.BUCKET.delete(key);
      else await env.BUCKET.put(key, makeWav({ seconds: 1, seed: 99 }), meta);
      await shardOf(taskId).report({
        kind: "transfer",
        taskId,
        runnerId: await runnerIdOf(taskId),
        file: `${taskId}.wav`,
        key,
        epoch: 1,
        result: { ok: true, stored: { key, size: wav.byteLength, sha256: await sha256Hex(wav), contentType: "audio/wav", etag: written!.etag } },
      });
      const after = (await storedTask(taskId))!;
      expect(after.state).toBe("downloading");
      expect(after.files[0]).toMatchObject({ state: "waiting", stored: null });
      expect((await getTask(taskId))?.wav).toBeNull();
      source.release(() => new Response("busy", { status: 503 })); // let the held attempt end
    });
  }
});

describe("finding: a repeated report from before POST /retry", () => {
  it("a failure report naming the old epoch changes nothing for the new attempt", async () => {
    const taskId = uniqueTaskId("epoch");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 35 });
    route("GET", RECORD_INFO, () => Response.json({ code: 200, msg: "success", data: { taskId, successFlag: "SUCCESS", response: { audioWavUrl: url } } }));
    // Attempt 1 (epoch 1) gets an HTML page: not_a_wav, failed.
    const html = new TextEncoder().encode("<html><body>not here</body></html>");
    const source = gatedSource(url, () => new Response(html, { headers: { "content-type": "text/html", "content-length": String(html.byteLength) } }));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.state, { timeout: 10_000 }).toBe("failed");
    expect((await getTask(taskId))?.error?.code).toBe("not_a_wav");

    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    await expect.poll(() => source.requests(), { timeout: 10_000 }).toBe(2); // the new attempt is in flight
    const before = (await storedTask(taskId))!;
    const epoch = before.files[0]!.running!.epoch;
    expect(epoch).toBeGreaterThan(1);

    // The runner's report of attempt 1, delivered again (it kept it while the shard was busy).
    await shardOf(taskId).report({
      kind: "transfer",
      taskId,
      runnerId: await runnerIdOf(taskId),
      file: `${taskId}.wav`,
      key: `wav/${taskId}.wav`,
      epoch: 1,
      result: { ok: false, error: { code: "not_a_wav", message: "the source's body does not start with a RIFF/WAVE header" }, retryable: false },
    });
    const after = (await storedTask(taskId))!;
    expect(after.state).toBe("downloading");
    expect(after.files[0]).toMatchObject({ state: "waiting", attempts: before.files[0]!.attempts, error: null, running: { epoch } });

    source.release(() => wavResponse(wav));
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ state: "stored", attempts: 1, wav: { sha256: await sha256Hex(wav) } });
  });
});

describe("finding: a body cut off before the type check had its 12 bytes", () => {
  /** A body that ends cleanly after `bytes`, whatever Content-Length says. */
  function shortBody(bytes: Uint8Array, contentLength: number): Response {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes);
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "audio/wav", "content-length": String(contentLength) } });
  }

  it("8 bytes of a declared 44 + more: truncated (retried), not not_a_wav", async () => {
    const taskId = uniqueTaskId("short");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 36 });
    route("GET", url, () => shortBody(wav.subarray(0, 8), wav.byteLength));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("truncated");
    const task = (await getTask(taskId))!;
    expect(task.state).toBe("downloading");
    expect(task.nextAttemptAt).not.toBeNull();
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
  });

  it("a complete 8-byte body (Content-Length 8) is not_a_wav, final", async () => {
    const taskId = uniqueTaskId("short");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const bytes = makeWav({ seconds: 1 }).subarray(0, 8);
    route("GET", url, () => shortBody(bytes, 8));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["failed", "stored"]);
    expect(task).toMatchObject({ state: "failed", error: { code: "not_a_wav" }, nextAttemptAt: null });
  });
});

describe("finding: resume works per file for every kind", () => {
  it("a music task's 70 MiB MP3 cut off half-way resumes with Range and is stored whole", { timeout: 120_000 }, async () => {
    const taskId = uniqueTaskId("mp3");
    const mp3Url = `https://cdn.example.com/${taskId}/track-1.mp3`;
    const jpegUrl = `https://cdn.example.com/${taskId}/track-1.jpeg`;
    const id3 = new Uint8Array([0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const source = rangedSource(70 * MiB + 777, { header: id3, contentType: "audio/mpeg" });
    const jpeg = new Uint8Array(2048);
    jpeg.set([0xff, 0xd8, 0xff, 0xe0]);
    route("GET", mp3Url, (req) => source.handler(req));
    route("GET", jpegUrl, () => new Response(jpeg, { headers: { "content-type": "image/jpeg", "content-length": String(jpeg.byteLength) } }));

    // A music task, whose runner takes files above the tests' 32 MiB MAX_FILE_BYTES.
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "music" }) })).status).toBe(201);
    const runner = await prepareRunner(taskId);
    await runInDurableObject(runner, (instance) => {
      const self = instance as unknown as { env: Env };
      self.env = { ...self.env, MAX_FILE_BYTES: String(256 * MiB) };
    });

    source.behaviour.cutAfter = 35 * MiB + 123;
    const body = { code: 200, msg: "All generated successfully.", data: { callbackType: "complete", task_id: taskId, data: [{ id: "track-1", audio_url: mp3Url, image_url: jpegUrl }] } };
    expect((await sendCallback(body, { kind: "music" })).status).toBe(200);
    const mp3 = async () => (await getTask(taskId))?.files.find((f) => f.name === "track-1.mp3");
    await expect.poll(async () => (await mp3())?.error?.code, { timeout: 30_000 }).toBe("source_interrupted");
    const firstSent = source.sent();
    source.behaviour.cutAfter = undefined;

    const waiting = (await getTask(taskId))!;
    await atTime(Math.max(Date.now(), Date.parse(waiting.nextAttemptAt!)) + 1_000, () => runDue(taskId));
    const task = await waitForState(taskId, ["stored", "failed"], 90_000);
    expect(task.state).toBe("stored");
    const file = task.files.find((f) => f.name === "track-1.mp3")!;
    expect(file).toMatchObject({ state: "stored", size: source.size, contentType: "audio/mpeg" });
    expect(file.sha256).toBe(await source.sha256());

    // The second request asked for the rest, from a part boundary the checkpoint had…
    expect(source.ranges[0]).toBeNull();
    const from = Number(/^bytes=(\d+)-$/.exec(source.ranges[1] ?? "")?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from % PART).toBe(0);
    // …and no more than the remainder and one part was fetched after the cut.
    expect(source.sent() - firstSent).toBeLessThanOrEqual(source.size - firstSent + PART);
    const object = await env.BUCKET.head(`music/${taskId}/track-1.mp3`);
    expect(object?.size).toBe(source.size);
  });
});
