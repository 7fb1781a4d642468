// Review fixes to what a task hands out and takes: at most four transfers of one task at once
// (the runner works on four together; a fifth would spend its lease waiting in its queue), and a
// music callback naming more tracks than a generation makes is refused.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue, runnerOf, shardOf, storedTask } from "../../helpers/durable";
import { fileResponse, makePng } from "../../helpers/files";
import { requestsTo, route } from "../../helpers/fake-net";
import { sha256Hex } from "../../helpers/wav";
import { getTask, jsonOf, sendCallback, uniqueTaskId } from "../../helpers/worker";
import { jobsOf, LEASE_MS, runAlarm } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
});

describe("transfers of one task at once", () => {
  it("a cover task with 10 images: 4 handed out while they run, the rest after; all 10 stored, each fetched once", async () => {
    const taskId = uniqueTaskId("cover");
    const images = Array.from({ length: 10 }, (_, i) => ({ bytes: makePng(40 + i, 2048 + i), url: `https://tempfile.aiquickdraw.com/s/${taskId}_${i}.png` }));
    for (const im of images) route("GET", im.url, () => fileResponse(im.bytes, "image/png"));
    // The alarms run when the test runs them (the clock is an hour ahead of the runtime's).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3_600_000);
    const body = { code: 200, msg: "success", data: { taskId, images: images.map((im) => im.url) } };
    expect((await sendCallback(body, { kind: "cover" })).status).toBe(200);
    await runAlarm(shardOf(taskId)); // hands out what is due

    const task = (await storedTask(taskId))!;
    expect(task.files).toHaveLength(10);
    expect(task.files.filter((f) => f.running !== null)).toHaveLength(4);
    expect(task.files.filter((f) => f.running === null && f.state === "waiting")).toHaveLength(6);
    expect(await jobsOf((await runnerOf(taskId))!)).toHaveLength(4);
    // The alarm is not due again before one of them answers (or its lease ends): no alarm that
    // comes straight back to find nothing it may hand out.
    const runAt = await runInDurableObject(shardOf(taskId), (_i, state) =>
      state.storage.sql.exec<{ run_at: number | null }>("SELECT run_at FROM tasks WHERE task_id = ?", taskId).one().run_at,
    );
    expect(runAt).toBe(Math.min(...task.files.filter((f) => f.running !== null).map((f) => f.running!.since)) + LEASE_MS);

    // Each report lets the next file go.
    await runDue(taskId, 10);
    vi.useRealTimers();
    const done = (await getTask(taskId))!;
    expect(done).toMatchObject({ state: "stored", error: null });
    for (const [i, im] of images.entries()) {
      expect(requestsTo(im.url)).toHaveLength(1);
      expect(done.files.find((f) => f.name === `cover-${i + 1}.png`)?.sha256).toBe(await sha256Hex(im.bytes));
    }
  });
});

describe("a music callback", () => {
  it("naming more than 20 tracks is refused (400) and records nothing", async () => {
    const taskId = uniqueTaskId("music");
    const tracks = Array.from({ length: 21 }, (_, i) => ({ id: `trk-${i}`, audio_url: `https://cdn.example.com/${taskId}/${i}.mp3`, image_url: `https://cdn.example.com/${taskId}/${i}.jpeg` }));
    const res = await sendCallback({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: taskId, data: tracks } }, { kind: "music" });
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).error.code).toBe("invalid_callback");
    expect(await getTask(taskId)).toBeNull();
    for (const t of tracks) expect(requestsTo(t.audio_url)).toHaveLength(0);
  });
});
