// Review fixes to resumable transfers, driven through the real shard, runner and R2: a checkpoint
// that already holds the whole file, a 416 at the file's end, a 416 elsewhere, a slice that ends
// on the last part, a checkpoint of another link without validators, and the attempt after an
// interrupted one going up in parts.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { crashMidAttempt, runDue } from "../../helpers/durable";
import { requestsTo, route } from "../../helpers/fake-net";
import { restoreEnv, swapEnv } from "../../helpers/objects";
import { rangedSource } from "../../helpers/ranged-source";
import { makeWav, sha256Hex } from "../../helpers/wav";
import { getTask } from "../../helpers/worker";
import { bytesOf, checkpointOf, handOut, headerOf, jobsOf, leftoverUpload, MiB, PART, runAlarm, seedRunner, uploadIsOpen, waitingToRetry } from "./helpers";

const swapped: DurableObjectStub[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const stub of swapped.splice(0)) await restoreEnv(stub);
});

/** The stored object's bytes, read back from R2. */
async function storedBytes(key: string): Promise<Uint8Array> {
  const object = await env.BUCKET.get(key);
  expect(object, `R2 has ${key}`).not.toBeNull();
  return new Uint8Array(await object!.arrayBuffer());
}

describe("a checkpoint that already holds the whole file", () => {
  it("total known: the upload is completed without asking the source again", async () => {
    const wav = makeWav({ seconds: 1, seed: 61 });
    // The source would answer what a server answers for a range past the end.
    const { taskId, url } = await waitingToRetry({ then: () => new Response(null, { status: 416, headers: { "content-range": `bytes */${wav.byteLength}` } }) });
    const key = `wav/${taskId}.wav`;
    // The dead attempt had put the last (only) part into R2 and checkpointed it, then died before
    // completing the upload.
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [wav]);
    const job = await handOut(taskId);
    const runner = await seedRunner(taskId, job, "running", { uploadId, total: wav.byteLength, etag: '"v1"', lastModified: null, parts, wavHeader: headerOf(wav) });
    await runAlarm(runner);

    const task = (await getTask(taskId))!;
    expect(task).toMatchObject({ state: "stored", error: null, wav: { key, size: wav.byteLength, sha256: await sha256Hex(wav) } });
    expect(requestsTo(url)).toHaveLength(1); // only the first attempt's 503
    expect(await storedBytes(key)).toEqual(wav);
    expect(await checkpointOf(runner, key)).toBeNull();
  });

  it("total unknown: a 416 saying the file is exactly as long as what R2 has is an empty rest", async () => {
    const wav = makeWav({ seconds: 1, seed: 62 });
    const { taskId, url } = await waitingToRetry({ then: () => new Response(null, { status: 416, headers: { "content-range": `bytes */${wav.byteLength}` } }) });
    const key = `wav/${taskId}.wav`;
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [wav]);
    const job = await handOut(taskId);
    // A source that sent no Content-Length: the checkpoint does not know the total.
    const runner = await seedRunner(taskId, job, "paused", { uploadId, total: null, etag: null, lastModified: null, parts, wavHeader: headerOf(wav) });
    await runAlarm(runner);

    const task = (await getTask(taskId))!;
    expect(task).toMatchObject({ state: "stored", error: null, wav: { size: wav.byteLength, sha256: await sha256Hex(wav) } });
    const asked = requestsTo(url).slice(1);
    expect(asked.map((r) => r.headers.get("range"))).toEqual([`bytes=${wav.byteLength}-`]);
    expect(await storedBytes(key)).toEqual(wav);
  });

  it("total unknown: a 416 that names another length starts over from byte 0 (the old upload is aborted)", async () => {
    const wav = makeWav({ seconds: 1, seed: 63 });
    const old = makeWav({ seconds: 2, seed: 64 }).subarray(0, 20_000); // the beginning of what the link served before
    const { taskId, url } = await waitingToRetry({
      then: (req) =>
        req.headers.has("range")
          ? new Response(null, { status: 416, headers: { "content-range": `bytes */${wav.byteLength}` } })
          : new Response(wav, { headers: { "content-type": "audio/wav", "content-length": String(wav.byteLength) } }),
    });
    const key = `wav/${taskId}.wav`;
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [old]);
    const job = await handOut(taskId);
    const runner = await seedRunner(taskId, job, "paused", { uploadId, total: null, etag: null, lastModified: null, parts, wavHeader: headerOf(old) });
    await runAlarm(runner);

    const task = (await getTask(taskId))!;
    expect(task).toMatchObject({ state: "stored", error: null, wav: { size: wav.byteLength, sha256: await sha256Hex(wav) } });
    expect(requestsTo(url).slice(1).map((r) => r.headers.get("range"))).toEqual([`bytes=${old.byteLength}-`, null]);
    expect(await storedBytes(key)).toEqual(wav);
    expect(await uploadIsOpen(key, uploadId)).toBe(false);
  });
});

describe("a slice that ends as the last part lands", () => {
  it("completes the upload in that slice (total known) instead of pausing with nothing left to fetch", async () => {
    const size = 2 * PART;
    const source = rangedSource(size);
    const whole = await bytesOf(rangedSource(size).handler(new Request("https://x.test/")).body);
    const { taskId, url } = await waitingToRetry({ then: (req) => source.handler(req) });
    const key = `wav/${taskId}.wav`;
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [whole.subarray(0, PART)]);
    const job = await handOut(taskId);
    const runner = await seedRunner(taskId, job, "paused", { uploadId, total: size, etag: '"v1"', lastModified: null, parts, wavHeader: headerOf(whole) });
    await swapEnv(runner, { TRANSFER_SLICE_SECONDS: "1" });
    swapped.push(runner);
    // The slice's time runs out while the source sends the last part.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now());
    route("GET", url, (req) => {
      vi.setSystemTime(Date.now() + 5_000);
      return source.handler(req);
    });
    await runAlarm(runner);
    vi.useRealTimers();

    expect(await jobsOf(runner)).toEqual([]); // not paused: done, and reported
    const task = (await getTask(taskId))!;
    expect(task).toMatchObject({ state: "stored", error: null, wav: { size, sha256: await source.sha256() } });
    expect(source.ranges).toEqual([`bytes=${PART}-`]);
  });
});

describe("a checkpoint of another link", () => {
  it("without ETag or Last-Modified, a link to another path is not resumed: the upload starts over", async () => {
    const size = PART + 3 * MiB;
    const source = rangedSource(size); // what the new link serves (a 206 for any Range, no validators)
    source.behaviour = {};
    const oldPath = (taskId: string) => `https://cdn.example.com/${taskId}-take-1.wav`;
    const { taskId } = await waitingToRetry({ url: (id) => `https://cdn.example.com/${id}-take-2.wav?sig=b`, then: (req) => source.handler(req) });
    const key = `wav/${taskId}.wav`;
    // The earlier attempt fetched the first part of another file (same length), at another path.
    const other = makeWav({ bytes: PART, seed: 65 });
    const { uploadId, parts } = await leftoverUpload(key, taskId, oldPath(taskId), [other]);
    const job = await handOut(taskId);
    const runner = await seedRunner(taskId, job, "paused", { uploadId, total: size, etag: null, lastModified: null, source: oldPath(taskId), parts, wavHeader: headerOf(other) });
    await runAlarm(runner);

    const task = (await getTask(taskId))!;
    expect(task).toMatchObject({ state: "stored", error: null, wav: { size, sha256: await source.sha256() } });
    expect(source.ranges).toEqual([null]); // fetched from byte 0, not "the rest" of another file
    expect(await sha256Hex(await storedBytes(key))).toBe(await source.sha256());
    expect(await uploadIsOpen(key, uploadId)).toBe(false);
  });

  it("the same path with another signed query (a refreshed link) is still resumed", async () => {
    const size = PART + 3 * MiB;
    const source = rangedSource(size);
    source.behaviour = {};
    const whole = await bytesOf(rangedSource(size).handler(new Request("https://x.test/")).body);
    const { taskId, url } = await waitingToRetry({ url: (id) => `https://cdn.example.com/${id}.wav?sig=new`, then: (req) => source.handler(req) });
    const key = `wav/${taskId}.wav`;
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [whole.subarray(0, PART)]);
    const job = await handOut(taskId);
    const runner = await seedRunner(taskId, job, "paused", { uploadId, total: size, etag: null, lastModified: null, source: `https://cdn.example.com/${taskId}.wav`, parts, wavHeader: headerOf(whole) });
    await runAlarm(runner);

    expect(await getTask(taskId)).toMatchObject({ state: "stored", wav: { size, sha256: await source.sha256() } });
    expect(source.ranges).toEqual([`bytes=${PART}-`]);
  });
});

describe("the attempt after an interrupted one", () => {
  it("goes up in checkpointed parts even below 64 MiB, so a second cut resumes rather than starts over", async () => {
    const size = 2 * PART + 1 * MiB;
    const source = rangedSource(size);
    const { taskId } = await waitingToRetry({ then: (req) => source.handler(req) });
    // Attempt 2 dies with the isolate (nothing checkpointed): interrupted.
    expect(await crashMidAttempt(taskId)).toBe(true);
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("interrupted");

    // Attempt 3 (adopt: nothing to adopt) is cut off after a part and a bit.
    source.behaviour.cutAfter = PART + 2 * MiB;
    const nextAt = async () => Math.max(Date.now(), Date.parse((await getTask(taskId))!.nextAttemptAt!)) + 1_000;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(await nextAt());
    await runDue(taskId);
    expect((await getTask(taskId))?.error?.code).toBe("source_interrupted");

    // Attempt 4 asks only for the rest.
    source.behaviour.cutAfter = undefined;
    vi.setSystemTime(await nextAt());
    await runDue(taskId);
    vi.useRealTimers();

    const task = (await getTask(taskId))!;
    expect(task).toMatchObject({ state: "stored", error: null, wav: { size, sha256: await source.sha256() } });
    expect(source.ranges).toEqual([null, `bytes=${PART}-`]);
    expect(await sha256Hex(await storedBytes(`wav/${taskId}.wav`))).toBe(await source.sha256());
  });
});
