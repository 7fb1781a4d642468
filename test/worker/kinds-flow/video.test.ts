// Video: video.mp4 from the callback's data.video_url, kept with every guarantee a WAV has.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { fileResponse, HTML_PAGE, makeMp4 } from "../../helpers/files";
import { requestsTo, route } from "../../helpers/fake-net";
import { api, getTask, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";
import {
  announcement,
  CDN,
  eventsOf,
  expectAnnounced,
  expectFilesStored,
  expectNothingRecorded,
  OVERDUE_MS,
  pollsOf,
  r2Keys,
  recordInfo,
  register,
  tickAt,
  type Expected,
} from "./flow";

afterEach(() => {
  vi.useRealTimers();
});

function video(taskId: string, seed: number) {
  const bytes = makeMp4(seed, 9000 + seed);
  const url = `${CDN}/videos/${taskId}.mp4`;
  route("GET", url, () => fileResponse(bytes, "video/mp4"));
  const expected: Expected[] = [{ name: "video.mp4", bytes, contentType: "video/mp4", role: "video", track: null }];
  return { bytes, url, expected };
}

const callback = (taskId: string, url: string | null, code = 200) => ({
  code,
  msg: code === 200 ? "MP4 generated successfully." : "Music video generation failed",
  data: { task_id: taskId, video_url: url },
});

/** record-info's `data` for a video task (docs.sunoapi.org's shape). */
const record = (taskId: string, successFlag: string, url: string | null) => ({
  taskId,
  musicId: "audioId_0295980ec02e",
  callbackUrl: "https://edge.test/callbacks/video",
  audioId: "e231-8cadc7dc",
  completeTime: 1735661400000,
  response: { videoUrl: url },
  successFlag,
  createTime: 1735661400000,
  errorCode: null,
  errorMessage: null,
});

describe("video", () => {
  it("a signed callback stores video.mp4 under video/<taskId>/ and announces video.stored with its link", async () => {
    const taskId = uniqueTaskId("video");
    const v = video(taskId, 1);
    expect((await sendCallback(callback(taskId, v.url), { kind: "video" })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ kind: "video", state: "stored", error: null, source: { url: v.url } });
    expect(task.files).toHaveLength(1);
    await expectFilesStored(task, v.expected);
    expect(await r2Keys(`video/${taskId}/`)).toEqual([`video/${taskId}/video.mp4`]);
    await expectAnnounced(taskId, "video.stored", v.expected);
  });

  it("a callback signed over another task id is 401 and records nothing", async () => {
    const taskId = uniqueTaskId("video");
    const v = video(taskId, 2);
    const res = await sendCallback(callback(taskId, v.url), { kind: "video", taskId: uniqueTaskId("video") });
    expect(res.status).toBe(401);
    await expectNothingRecorded("video", taskId, [v.url]);
  });

  it("the lost callback: overdue → mp4/record-info SUCCESS → video.mp4 stored", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("video");
    const v = video(taskId, 3);
    const answers = new Map<string, unknown>([[taskId, record(taskId, "PENDING", null)]]);
    recordInfo(answers);
    await register(taskId, "video");
    await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(pollsOf("video", taskId)).toBe(1);
    expect((await getTask(taskId))?.state).toBe("pending");
    // The provider could not deliver its callback, but the video is there.
    answers.set(taskId, record(taskId, "CALLBACK_EXCEPTION", v.url));
    await tickAt(t0 + OVERDUE_MS + 32_000);
    expect(pollsOf("video", taskId)).toBe(2);
    await runDue(taskId);
    const task = (await getTask(taskId))!;
    expect(task.state).toBe("stored");
    await expectFilesStored(task, v.expected);
    expect((await eventsOf(taskId, "poll")).map((e) => e.flag)).toEqual(["PENDING", "CALLBACK_EXCEPTION"]);
  });

  it("an HTML page instead of the MP4 fails the task with not_mp4; a retry fetches it again and it ends stored", async () => {
    const taskId = uniqueTaskId("video");
    const v = video(taskId, 4);
    route("GET", v.url, () => fileResponse(HTML_PAGE, "text/html"));
    recordInfo(new Map([[taskId, record(taskId, "SUCCESS", v.url)]]));
    expect((await sendCallback(callback(taskId, v.url), { kind: "video" })).status).toBe(200);
    const failed = await waitForState(taskId, ["stored", "failed"]);
    expect(failed.state).toBe("failed");
    expect(failed.error?.code).toBe("not_mp4");
    expect(failed.error?.message).toContain("video.mp4");
    expect(failed.files[0]).toMatchObject({ name: "video.mp4", state: "failed", error: { code: "not_mp4" } });
    expect(await r2Keys(`video/${taskId}/`)).toEqual([]);
    const notStored = await api(`/api/tasks/${taskId}/files/video.mp4`);
    expect(notStored.status).toBe(404);
    expect((await jsonOf(notStored)).error.code).toBe("not_stored");
    const ann = await announcement(taskId);
    expect(ann).toMatchObject({ type: "video.failed", data: { state: "failed", error: { code: "not_mp4" } } });
    expect(ann.data.files[0]!.downloadUrl).toBeUndefined();

    route("GET", v.url, () => fileResponse(v.bytes, "video/mp4"));
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    await expectFilesStored(task, v.expected);
    expect(requestsTo(v.url)).toHaveLength(2);
  });

  it("the same callback twice fetches the video once", async () => {
    const taskId = uniqueTaskId("video");
    const v = video(taskId, 5);
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(callback(taskId, v.url), { kind: "video", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(callback(taskId, v.url), { kind: "video", timestamp: ts })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect((await sendCallback(callback(taskId, v.url), { kind: "video", timestamp: ts + 1 })).status).toBe(200);
    expect(requestsTo(v.url)).toHaveLength(1);
    expect(await env.BUCKET.head(`video/${taskId}/video.mp4`)).not.toBeNull();
  });
});
