// Cover images: cover-1.png, cover-2.png, … from the callback's data.images[] (the task id is
// data.taskId, camelCase, here), kept with every guarantee a WAV has.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { fileResponse, HTML_PAGE, makePng } from "../../helpers/files";
import { requestsTo, route } from "../../helpers/fake-net";
import { api, getTask, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";
import {
  announcement,
  expectAnnounced,
  expectFilesStored,
  expectNothingRecorded,
  fileSettled,
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

function images(taskId: string, count: number, seed: number) {
  const files = Array.from({ length: count }, (_, i) => {
    const bytes = makePng(seed * 10 + i, 2048 + i * 5);
    const url = `https://tempfile.aiquickdraw.com/s/${taskId}_${i}.png`;
    route("GET", url, () => fileResponse(bytes, "image/png"));
    return { bytes, url };
  });
  const expected: Expected[] = files.map((f, i) => ({ name: `cover-${i + 1}.png`, bytes: f.bytes, contentType: "image/png", role: "image", track: null }));
  return { files, urls: files.map((f) => f.url), expected };
}

const callback = (taskId: string, urls: string[] | null, code = 200) => ({
  code,
  msg: code === 200 ? "success" : "Cover generation failed",
  data: { taskId, images: urls },
});

/** record-info's `data` for a cover task: successFlag is a number (0 waiting, 1 done, 2 generating, 3 failed). */
const record = (taskId: string, successFlag: number, urls: string[] | null) => ({
  taskId,
  parentTaskId: "73d6128b3523a0079df10da9471017c8",
  callbackUrl: "https://edge.test/callbacks/cover",
  completeTime: "2025-01-15T10:35:27.000Z",
  response: { images: urls },
  successFlag,
  createTime: "2025-01-15T10:33:01.000Z",
  errorCode: successFlag === 1 ? 200 : null,
  errorMessage: "",
});

describe("cover", () => {
  it("a signed callback stores cover-1.png and cover-2.png under cover/<taskId>/ and announces cover.stored", async () => {
    const taskId = uniqueTaskId("cover");
    const c = images(taskId, 2, 1);
    expect((await sendCallback(callback(taskId, c.urls), { kind: "cover" })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ kind: "cover", state: "stored", error: null });
    expect(task.files.map((f) => f.name)).toEqual(["cover-1.png", "cover-2.png"]);
    await expectFilesStored(task, c.expected);
    expect((await r2Keys(`cover/${taskId}/`)).sort()).toEqual([`cover/${taskId}/cover-1.png`, `cover/${taskId}/cover-2.png`]);
    await expectAnnounced(taskId, "cover.stored", c.expected);
  });

  it("a callback signed over another task id is 401 and records nothing", async () => {
    const taskId = uniqueTaskId("cover");
    const c = images(taskId, 2, 2);
    // Signed over the parent music task's id instead of data.taskId.
    const res = await sendCallback(callback(taskId, c.urls), { kind: "cover", taskId: "73d6128b3523a0079df10da9471017c8" });
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).error.code).toBe("invalid_signature");
    await expectNothingRecorded("cover", taskId, c.urls);
  });

  it("the lost callback: overdue → suno/cover/record-info successFlag 1 → every image stored", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("cover");
    const c = images(taskId, 2, 3);
    const answers = new Map<string, unknown>([[taskId, record(taskId, 2, null)]]); // 2: still generating
    recordInfo(answers);
    await register(taskId, "cover");
    await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(pollsOf("cover", taskId)).toBe(1);
    expect((await getTask(taskId))?.state).toBe("pending");
    answers.set(taskId, record(taskId, 1, c.urls));
    await tickAt(t0 + OVERDUE_MS + 32_000);
    expect(pollsOf("cover", taskId)).toBe(2);
    await runDue(taskId);
    const task = (await getTask(taskId))!;
    expect(task.state).toBe("stored");
    await expectFilesStored(task, c.expected);
  });

  it("an HTML page instead of cover-2.png fails it with not_png; cover-1.png is stored; a retry fetches only cover-2", async () => {
    const taskId = uniqueTaskId("cover");
    const c = images(taskId, 2, 4);
    route("GET", c.urls[1]!, () => fileResponse(HTML_PAGE, "text/html"));
    recordInfo(new Map([[taskId, record(taskId, 1, c.urls)]]));
    expect((await sendCallback(callback(taskId, c.urls), { kind: "cover" })).status).toBe(200);
    const failed = await waitForState(taskId, ["stored", "failed"]);
    expect(failed.state).toBe("failed");
    expect(failed.error?.code).toBe("not_png");
    expect(failed.error?.message).toContain("cover-2.png");
    const task = await fileSettled(taskId, "cover-1.png");
    expect(task.files.find((f) => f.name === "cover-2.png")).toMatchObject({ state: "failed", error: { code: "not_png" } });
    await expectFilesStored(task, [c.expected[0]!]);
    expect(await env.BUCKET.head(`cover/${taskId}/cover-2.png`)).toBeNull();
    expect((await announcement(taskId)).type).toBe("cover.failed");

    route("GET", c.urls[1]!, () => fileResponse(c.files[1]!.bytes, "image/png"));
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    const done = await waitForState(taskId, ["stored", "failed"]);
    expect(done.state).toBe("stored");
    await expectFilesStored(done, c.expected);
    expect(requestsTo(c.urls[0]!)).toHaveLength(1);
    expect(requestsTo(c.urls[1]!)).toHaveLength(2);
  });

  it("the same callback twice fetches each image once", async () => {
    const taskId = uniqueTaskId("cover");
    const c = images(taskId, 2, 5);
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(callback(taskId, c.urls), { kind: "cover", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(callback(taskId, c.urls), { kind: "cover", timestamp: ts })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    expect((await sendCallback(callback(taskId, c.urls), { kind: "cover", timestamp: ts + 1 })).status).toBe(200);
    for (const url of c.urls) expect(requestsTo(url)).toHaveLength(1);
  });
});

describe("cover: many images, the first one wrong", () => {
  it("every other image still ends stored (none is left waiting in the failed task)", async () => {
    const taskId = uniqueTaskId("cover");
    const c = images(taskId, 30, 6);
    route("GET", c.urls[0]!, () => fileResponse(HTML_PAGE, "text/html"));
    expect((await sendCallback(callback(taskId, c.urls), { kind: "cover" })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).error?.code).toBe("not_png");
    // Every sibling is fetched and stored, without a retry.
    await expect
      .poll(async () => (await getTask(taskId))!.files.filter((f) => f.state === "waiting").map((f) => f.name), { timeout: 15_000 })
      .toEqual([]);
    const task = (await getTask(taskId))!;
    expect(task.state).toBe("failed");
    await expectFilesStored(task, c.expected.slice(1));
    for (const url of c.urls) expect(requestsTo(url)).toHaveLength(1);
  });
});
