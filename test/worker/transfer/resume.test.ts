// Resumable transfers (README, "Resumable transfers"): a file above 64 MiB goes up in checkpointed
// parts; an attempt cut off goes on from the last part R2 has, asking the source for the rest.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { prepareRunner, runDue } from "../../helpers/durable";
import { route } from "../../helpers/fake-net";
import { rangedSource } from "../../helpers/ranged-source";
import { api, getTask, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

const MiB = 1 << 20;
const PART = 8 * MiB;

async function settledOn(taskId: string, code: string) {
  await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 20_000 }).toBe(code);
}

/**
 * Registers the task and gives its runner these settings (the tests' MAX_WAV_BYTES of 32 MiB is
 * below the 64 MiB above which files go up in parts).
 */
async function withRunnerSettings(taskId: string, settings: Record<string, string>) {
  await api(`/api/tasks/${taskId}`, { method: "PUT" });
  const runner = await prepareRunner(taskId);
  await runInDurableObject(runner, (instance) => {
    const self = instance as unknown as { env: Env };
    self.env = { ...self.env, MAX_WAV_BYTES: String(256 * MiB), ...settings };
  });
}

/** Runs the next attempt now (the fake clock past its backoff). */
async function nextAttempt(taskId: string) {
  const task = (await getTask(taskId))!;
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Math.max(Date.now(), Date.parse(task.nextAttemptAt!)) + 1_000);
  try {
    await runDue(taskId);
  } finally {
    vi.useRealTimers();
  }
}

describe("resumable transfers", () => {
  it("a source cut off half-way: the next attempt asks only for the rest, and the file is whole", async () => {
    const source = rangedSource(80 * MiB + 12_345);
    const taskId = uniqueTaskId("resume");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, (req) => source.handler(req));
    await withRunnerSettings(taskId, {});
    source.behaviour.cutAfter = 40 * MiB + 100;
    await sendCallback(successBody(taskId, url));
    await settledOn(taskId, "source_interrupted");
    const firstSent = source.sent();
    source.behaviour.cutAfter = undefined;
    await nextAttempt(taskId);
    const task = await waitForState(taskId, ["stored", "failed"], 60_000);
    expect(task).toMatchObject({ state: "stored", wav: { size: source.size } });
    expect(task.wav!.sha256).toBe(await source.sha256());
    // The second request asked for the rest from a part boundary the checkpoint had.
    expect(source.ranges[0]).toBeNull();
    const from = Number(/^bytes=(\d+)-$/.exec(source.ranges[1]!)![1]);
    expect(from % PART).toBe(0);
    expect(from).toBeGreaterThanOrEqual(firstSent - 2 * PART);
    // Fetched after the cut: at most the remainder and one part.
    expect(source.sent() - firstSent).toBeLessThanOrEqual(source.size - firstSent + PART);
    const obj = await env.BUCKET.head(`wav/${taskId}.wav`);
    expect(obj?.size).toBe(source.size);
  });

  it("a source that answers the Range with the whole file (200): the upload starts over from byte 0", async () => {
    const source = rangedSource(72 * MiB);
    const taskId = uniqueTaskId("resume");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, (req) => source.handler(req));
    await withRunnerSettings(taskId, {});
    source.behaviour.cutAfter = 30 * MiB;
    await sendCallback(successBody(taskId, url));
    await settledOn(taskId, "source_interrupted");
    source.behaviour = { etag: '"v1"', ignoreRange: true };
    await nextAttempt(taskId);
    const task = await waitForState(taskId, ["stored", "failed"], 60_000);
    expect(task.state).toBe("stored");
    expect(task.wav!.sha256).toBe(await source.sha256());
    expect(source.ranges[1]).toMatch(/^bytes=\d+-$/); // asked for the rest…
    expect(source.sent()).toBeGreaterThanOrEqual(30 * MiB + 72 * MiB); // …got the whole file again
  });

  it("a source whose file changed (another ETag) is not resumed: the old upload goes, the new file is stored whole", async () => {
    const source = rangedSource(70 * MiB);
    const taskId = uniqueTaskId("resume");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, (req) => source.handler(req));
    await withRunnerSettings(taskId, {});
    source.behaviour.cutAfter = 25 * MiB;
    await sendCallback(successBody(taskId, url));
    await settledOn(taskId, "source_interrupted");
    source.behaviour = { etag: '"v2"' }; // a 206 for another version of the file
    await nextAttempt(taskId);
    const task = await waitForState(taskId, ["stored", "failed"], 60_000);
    expect(task.state).toBe("stored");
    expect(task.wav!.sha256).toBe(await source.sha256());
    expect(source.ranges.slice(1)).toContainEqual(null); // asked again from byte 0
  });

  it("TRANSFER_SLICE_SECONDS: a slow transfer pauses, goes on in fresh invocations, and fetches each byte about once", async () => {
    const source = rangedSource(70 * MiB);
    source.behaviour.bytesPerSecond = 20 * MiB;
    const taskId = uniqueTaskId("slice");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, (req) => source.handler(req));
    // This task's runner works 1 s per invocation.
    await withRunnerSettings(taskId, { TRANSFER_SLICE_SECONDS: "1" });
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["stored", "failed"], 60_000);
    expect(task.state).toBe("stored");
    expect(task.wav!.sha256).toBe(await source.sha256());
    // At least three invocations: the first request and two resumptions.
    expect(source.ranges.length).toBeGreaterThanOrEqual(3);
    expect(source.ranges.slice(1).every((r) => r !== null && /^bytes=\d+-$/.test(r))).toBe(true);
    expect(source.sent()).toBeLessThanOrEqual(source.size + PART);
    // What each pause fetches again is at most the rest of the block being read (1 MiB) and a
    // chunk the source had pushed. (This source pushes only when read; over a real connection the
    // pause also lets the source go before the last part's upload: BENCHMARKS.md, "Time slices".)
    const again = source.answers.slice(0, -1).map((a, i) => a.start + a.sent - source.answers[i + 1]!.start);
    for (const bytes of again) expect(bytes).toBeLessThanOrEqual(MiB + 256 * 1024);
  });
});
