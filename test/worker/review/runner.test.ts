// Review fixes to the runner, through the real shard, runner and R2: a newer job in a slot is not
// deleted with the old one, a queued transfer the task no longer wants is not begun, a dropped
// upload is aborted, a link is refreshed only when an attempt starts, and trouble of the runner's
// own is a failed attempt rather than an alarm that throws.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shardOf, storedTask } from "../../helpers/durable";
import { requestsTo, route } from "../../helpers/fake-net";
import { restoreEnv, swapEnv } from "../../helpers/objects";
import { rangedSource } from "../../helpers/ranged-source";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, getTask } from "../../helpers/worker";
import { bytesOf, checkpointOf, handOut, headerOf, jobsOf, LEASE_MS, leftoverUpload, MiB, PART, runAlarm, seedRunner, until, uploadIsOpen, waitingToRetry } from "./helpers";

const RECORD_INFO = "https://provider.test/api/v1/wav/record-info";

const swapped: DurableObjectStub[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const stub of swapped.splice(0)) await restoreEnv(stub);
});

/** A file of `size` bytes served by a ranged source, and its bytes. */
async function sourceOf(size: number) {
  const source = rangedSource(size);
  const whole = await bytesOf(rangedSource(size).handler(new Request("https://x.test/")).body);
  return { source, whole };
}

describe("the runner's job rows", () => {
  it("a newer job start() put in the slot while the old one ran survives the old one being dropped, and goes on from its parts", async () => {
    const size = 3 * PART;
    const { source, whole } = await sourceOf(size);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let hold = true;
    const { taskId, url } = await waitingToRetry({
      then: async (req) => {
        if (hold) {
          hold = false;
          await gate;
        }
        return source.handler(req);
      },
    });
    const key = `wav/${taskId}.wav`;
    const name = `${taskId}.wav`;
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [whole.subarray(0, PART)]);
    const old = await handOut(taskId);
    const runner = await seedRunner(taskId, old, "paused", { uploadId, total: size, etag: '"v1"', lastModified: null, parts, wavHeader: headerOf(whole) });
    await swapEnv(runner, { TRANSFER_SLICE_SECONDS: "1" });
    swapped.push(runner);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now());
    // The old attempt's next slice asks for the rest; the source holds.
    const slice = runAlarm(runner);
    await until(() => requestsTo(url).length === 2);
    // Meanwhile its lease ends in the shard, and the next attempt is handed to the same runner.
    const since = (await storedTask(taskId))!.files[0]!.running!.since;
    vi.setSystemTime(since + LEASE_MS + 1_000);
    await runAlarm(shardOf(taskId));
    vi.setSystemTime((await storedTask(taskId))!.files[0]!.dueAt! + 1);
    await runAlarm(shardOf(taskId));
    const epoch = (await storedTask(taskId))!.files[0]!.running!.epoch;
    expect(epoch).toBe(old.epoch + 1);
    expect(await jobsOf(runner)).toEqual([{ kind: `transfer:${name}`, phase: "queued", epoch }]);

    // The old slice goes on: a part lands, its time is up, and the shard no longer wants it.
    release();
    await slice;
    expect(await jobsOf(runner)).toEqual([{ kind: `transfer:${name}`, phase: "queued", epoch }]);
    expect((await checkpointOf(runner, key))?.parts).toHaveLength(2); // the newer job's to go on from

    // The newer attempt asks only for the rest, and completes the very upload.
    await runAlarm(runner);
    vi.useRealTimers();
    const task = (await getTask(taskId))!;
    expect(task).toMatchObject({ state: "stored", error: null, wav: { size, sha256: await source.sha256() } });
    expect(source.ranges).toEqual([`bytes=${PART}-`, `bytes=${2 * PART}-`]);
    expect(await jobsOf(runner)).toEqual([]);
  });
});

describe("a transfer the task no longer wants", () => {
  it("queued, then the task is deleted: not begun, and the upload an earlier slice left is aborted", async () => {
    const wav = makeWav({ seconds: 1, seed: 71 });
    const { taskId, url } = await waitingToRetry({ then: () => wavResponse(wav) });
    const key = `wav/${taskId}.wav`;
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [wav.subarray(0, 6_000)]);
    const job = await handOut(taskId);
    const runner = await seedRunner(taskId, job, "queued", { uploadId, total: wav.byteLength, etag: null, lastModified: null, parts, wavHeader: headerOf(wav) });
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);

    await runAlarm(runner);
    expect(requestsTo(url)).toHaveLength(1); // the first attempt's 503 only
    expect(await jobsOf(runner)).toEqual([]);
    expect(await checkpointOf(runner, key)).toBeNull();
    expect(await uploadIsOpen(key, uploadId)).toBe(false);
    expect(await env.BUCKET.head(key)).toBeNull();
  });

  it("paused, then the task is deleted: the slice's end drops it, aborting its upload and forgetting its checkpoint", async () => {
    const size = 3 * PART;
    const { source, whole } = await sourceOf(size);
    const { taskId, url } = await waitingToRetry({ then: (req) => source.handler(req) });
    const key = `wav/${taskId}.wav`;
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [whole.subarray(0, PART)]);
    const job = await handOut(taskId);
    const runner = await seedRunner(taskId, job, "paused", { uploadId, total: size, etag: '"v1"', lastModified: null, parts, wavHeader: headerOf(whole) });
    await swapEnv(runner, { TRANSFER_SLICE_SECONDS: "1" });
    swapped.push(runner);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now());
    route("GET", url, (req) => {
      vi.setSystemTime(Date.now() + 5_000); // the slice's time runs out while the part streams
      return source.handler(req);
    });
    await runAlarm(runner);
    vi.useRealTimers();

    expect(source.ranges).toEqual([`bytes=${PART}-`]); // one more part, then the slice ended
    expect(await jobsOf(runner)).toEqual([]);
    expect(await checkpointOf(runner, key)).toBeNull();
    expect(await uploadIsOpen(key, uploadId)).toBe(false);
    expect(await env.BUCKET.head(key)).toBeNull();
  });
});

describe("a link refresh", () => {
  it("is made when an attempt starts, not again on each later slice of it", async () => {
    const size = PART + 2 * MiB;
    const { source, whole } = await sourceOf(size);
    const { taskId, url } = await waitingToRetry({ then: (req) => source.handler(req) });
    route("GET", RECORD_INFO, () => Response.json({ code: 200, msg: "success", data: { taskId, successFlag: "SUCCESS", response: { audioWavUrl: url }, errorCode: null, errorMessage: null } }));
    const key = `wav/${taskId}.wav`;
    const { uploadId, parts } = await leftoverUpload(key, taskId, url, [whole.subarray(0, PART)]);
    // An attempt that began with a refresh, and paused after its first slice.
    const job = await handOut(taskId, { refreshUrl: true });
    const runner = await seedRunner(taskId, job, "paused", { uploadId, total: size, etag: '"v1"', lastModified: null, parts, wavHeader: headerOf(whole) });
    await runAlarm(runner);

    expect(await getTask(taskId)).toMatchObject({ state: "stored", wav: { size, sha256: await source.sha256() } });
    expect(requestsTo(`${RECORD_INFO}?taskId=${taskId}`)).toHaveLength(0);
    expect(source.ranges).toEqual([`bytes=${PART}-`]);
  });
});

describe("trouble of the runner's own", () => {
  it("is a failed attempt (runner_error, retried), reported to the shard, not an alarm that throws", async () => {
    const { taskId } = await waitingToRetry();
    const job = await handOut(taskId);
    // A checkpoint this version cannot read (no parts): reading it throws inside the job.
    const runner = await seedRunner(taskId, job, "queued", JSON.stringify({ uploadId: "gone" }));
    await expect(runAlarm(runner)).resolves.toBe(true);

    const file = (await storedTask(taskId))!.files[0]!;
    expect(file).toMatchObject({ state: "waiting", running: null, error: { code: "runner_error" } });
    expect(file.dueAt).not.toBeNull();
    expect(await getTask(taskId)).toMatchObject({ state: "downloading", error: { code: "runner_error" } });
    expect(await jobsOf(runner)).toEqual([]);
    // The checkpoint that caused it goes with it: the next attempt starts afresh, not into the same trouble.
    expect(await checkpointOf(runner, `wav/${taskId}.wav`)).toBeNull();
  });
});
