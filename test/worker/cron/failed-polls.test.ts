// Issue 18's finding: `failed` tasks whose record later carries a URL were never looked at again.
// Now a failed task that never had a usable file (the provider reported failure, it expired, its
// source kept failing) is polled once a day while the provider may still hold its files, and a
// record with a URL reopens it; a task whose bytes were certainly wrong (not_a_wav, …) is not.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runTick } from "../../../src/cron/tick";
import { runDue, shardOf, storedTask } from "../../helpers/durable";
import { requests, route } from "../../helpers/fake-net";
import { atTime } from "../../helpers/objects";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, getTask, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

const RECORD_INFO = "https://provider.test/api/v1/wav/record-info";
const DAY = 86_400_000;

/** What record-info says per task id (PENDING for tasks of other tests). */
let records: Map<string, { successFlag: string; url?: string }>;

beforeEach(() => {
  records = new Map();
  route("GET", RECORD_INFO, (req) => {
    const taskId = new URL(req.url).searchParams.get("taskId")!;
    const r = records.get(taskId) ?? { successFlag: "PENDING" };
    return Response.json({
      code: 200,
      msg: "success",
      data: { taskId, successFlag: r.successFlag, response: r.url ? { audioWavUrl: r.url } : null, errorCode: null, errorMessage: null },
    });
  });
});

afterEach(() => {
  vi.useRealTimers();
});

const pollsOf = (taskId: string) => requests.filter((r) => r.url.startsWith(RECORD_INFO) && new URL(r.url).searchParams.get("taskId") === taskId).length;

/** One cron tick at `ms` (fake Date), then whatever became due for the task. */
async function tickAt(ms: number, taskId: string) {
  return atTime(ms, async () => {
    const report = await runTick(env, ms);
    await runDue(taskId);
    return report;
  });
}

describe("failed tasks are looked at once a day", () => {
  it("the next look is planned a day ahead, and is in the shard's poll index the cron reads", async () => {
    const taskId = uniqueTaskId("daily");
    await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } });
    await waitForState(taskId, ["failed"]);
    const planned = (await storedTask(taskId))!.pollAt;
    expect(planned).not.toBeNull();
    expect(planned! - Date.now()).toBeGreaterThan(DAY - 60_000);
    const indexed = await runInDurableObject(shardOf(taskId), (_i, state) =>
      state.storage.sql.exec<{ poll_at: number | null }>("SELECT poll_at FROM tasks WHERE task_id = ?", taskId).one().poll_at,
    );
    expect(indexed).toBe(planned);
  });

  it("a provider failure: a day later record-info carries a URL → reopened and stored", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("daily");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 51 });
    route("GET", url, () => wavResponse(wav));
    await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } });
    expect((await waitForState(taskId, ["failed"])).error?.code).toBe("500");
    const polled = pollsOf(taskId);

    // Not within the day…
    await tickAt(t0 + DAY - 60_000, taskId);
    expect(pollsOf(taskId)).toBe(polled);
    // …then the provider's record has the WAV after all.
    records.set(taskId, { successFlag: "SUCCESS", url });
    await tickAt(t0 + DAY + 60_000, taskId);
    expect(pollsOf(taskId)).toBe(polled + 1);
    const task = await waitForState(taskId, ["stored"]);
    expect(task).toMatchObject({ state: "stored", error: null, wav: { sha256: await sha256Hex(wav) } });
  });

  it("a record still without a URL leaves it failed, looked at again the next day", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("daily");
    await sendCallback({ code: 451, msg: "source download failed", data: { task_id: taskId } });
    await waitForState(taskId, ["failed"]);
    const polled = pollsOf(taskId);
    records.set(taskId, { successFlag: "GENERATE_WAV_FAILED" });
    await tickAt(t0 + DAY + 60_000, taskId);
    expect(pollsOf(taskId)).toBe(polled + 1);
    expect((await getTask(taskId))?.state).toBe("failed");
    await tickAt(t0 + DAY + 3_600_000, taskId);
    expect(pollsOf(taskId)).toBe(polled + 1); // not again the same day
    await tickAt(t0 + 2 * DAY + 120_000, taskId);
    expect(pollsOf(taskId)).toBe(polled + 2);
  });

  it("an expired task (no result within TASK_MAX_AGE_SECONDS) is looked at too", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("daily");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 52 });
    route("GET", url, () => wavResponse(wav));
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    // Past TASK_MAX_AGE_SECONDS (a day in the tests) with PENDING answers: expired.
    await tickAt(t0 + DAY + 60_000, taskId);
    expect((await getTask(taskId))?.error?.code).toBe("expired");
    const polled = pollsOf(taskId);
    records.set(taskId, { successFlag: "SUCCESS", url });
    await tickAt(t0 + 2 * DAY + 120_000, taskId);
    expect(pollsOf(taskId)).toBe(polled + 1);
    expect((await waitForState(taskId, ["stored"])).wav?.sha256).toBe(await sha256Hex(wav));
  });

  it("a task failed with not_a_wav is never polled again", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("daily");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const html = new TextEncoder().encode("<html>an error page</html>");
    route("GET", url, () => new Response(html, { headers: { "content-type": "text/html", "content-length": String(html.byteLength) } }));
    await sendCallback(successBody(taskId, url));
    expect((await waitForState(taskId, ["failed"])).error?.code).toBe("not_a_wav");
    expect((await storedTask(taskId))?.pollAt).toBeNull();
    const polled = pollsOf(taskId);
    records.set(taskId, { successFlag: "SUCCESS", url: `https://cdn.example.com/${taskId}-other.wav` });
    await tickAt(t0 + DAY + 60_000, taskId);
    await tickAt(t0 + 2 * DAY + 60_000, taskId);
    expect(pollsOf(taskId)).toBe(polled);
    expect((await getTask(taskId))?.state).toBe("failed");
  });
});
