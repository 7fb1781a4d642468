// Lyrics: the text travels inside the callback; lyrics.json keeps its data.data[] items
// {text, title, status, errorMessage} (kie.ai spells it error_message, and puts the id in
// data.task_id instead of data.taskId). Staged under lyrics/<id>/incoming/ until stored.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { getTask, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";
import {
  announcementsFor,
  eventsOf,
  expectAnnounced,
  expectFilesStored,
  expectNothingRecorded,
  fileText,
  OVERDUE_MS,
  pollsOf,
  r2Keys,
  recordInfo,
  register,
  tickAt,
  utf8,
  type Expected,
} from "./flow";

afterEach(() => {
  vi.useRealTimers();
});

const ITEMS = [
  { text: "[Verse]\nWalking through the city's darkest night\n[Chorus]\nIron heart", title: "Iron Man", status: "complete", errorMessage: "" },
  { text: "[Verse]\nMoonlight spreads across the windowsill", title: "Starry Night Dreams", status: "complete", errorMessage: "" },
];

/** docs.sunoapi.org's success callback: data.taskId, errorMessage. */
const sunoCallback = (taskId: string, items: unknown[] = ITEMS) => ({ code: 200, msg: "All generated successfully.", data: { callbackType: "complete", taskId, data: items } });

/** docs.kie.ai's: data.task_id, error_message. */
const kieCallback = (taskId: string) => ({
  code: 200,
  msg: "All generated successfully.",
  data: { callbackType: "complete", task_id: taskId, data: ITEMS.map(({ errorMessage, ...rest }) => ({ error_message: errorMessage, ...rest })) },
});

const expected = (items: unknown[] = ITEMS): Expected[] => [{ name: "lyrics.json", bytes: utf8(JSON.stringify(items)), contentType: "application/json", role: "lyrics", track: null }];

/** record-info's `data` for a lyrics task. */
const record = (taskId: string, status: string, items: unknown[] | null) => ({
  taskId,
  param: JSON.stringify({ prompt: "A song about peaceful night in the city" }),
  response: { taskId, data: items },
  status,
  type: "LYRICS",
  errorCode: null,
  errorMessage: null,
});

/** Nothing is left staged once the task is stored. */
async function noneStaged(taskId: string) {
  await expect.poll(() => r2Keys(`lyrics/${taskId}/incoming/`), { timeout: 10_000 }).toEqual([]);
}

describe("lyrics", () => {
  it("a signed callback (docs.sunoapi.org's spelling) stores lyrics.json and announces lyrics.stored with its link", async () => {
    const taskId = uniqueTaskId("lyrics");
    expect((await sendCallback(sunoCallback(taskId), { kind: "lyrics" })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ kind: "lyrics", state: "stored", error: null });
    expect(task.files).toHaveLength(1);
    await expectFilesStored(task, expected());
    expect(JSON.parse(await fileText(taskId, "lyrics.json"))).toEqual(ITEMS);
    await noneStaged(taskId);
    expect(await r2Keys(`lyrics/${taskId}/`)).toEqual([`lyrics/${taskId}/lyrics.json`]);
    await expectAnnounced(taskId, "lyrics.stored", expected());
  });

  it("kie.ai's spelling (data.task_id, error_message) is kept as errorMessage", async () => {
    const taskId = uniqueTaskId("lyrics");
    expect((await sendCallback(kieCallback(taskId), { kind: "lyrics" })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(JSON.parse(await fileText(taskId, "lyrics.json"))).toEqual(ITEMS);
    await noneStaged(taskId);
  });

  it("a callback signed over another task id is 401 and records nothing, not even staged content", async () => {
    const taskId = uniqueTaskId("lyrics");
    const res = await sendCallback(sunoCallback(taskId), { kind: "lyrics", taskId: uniqueTaskId("lyrics") });
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).error.code).toBe("invalid_signature");
    await expectNothingRecorded("lyrics", taskId);
    expect(await r2Keys(`lyrics/${taskId}/incoming/`)).toEqual([]);
  });

  it("the lost callback: overdue → lyrics/record-info SUCCESS → lyrics.json stored from response.data", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("lyrics");
    recordInfo(new Map([[taskId, record(taskId, "SUCCESS", ITEMS)]]));
    await register(taskId, "lyrics");
    const report = await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(report.outcomes.resolved).toBeGreaterThanOrEqual(1);
    expect(pollsOf("lyrics", taskId)).toBe(1);
    await runDue(taskId);
    const task = (await getTask(taskId))!;
    expect(task.state).toBe("stored");
    await expectFilesStored(task, expected());
    await runDue(taskId); // the staged copy is removed from the shard's alarm
    await noneStaged(taskId);
  });

  it("the same callback twice stores lyrics.json once and leaves nothing staged", async () => {
    const taskId = uniqueTaskId("lyrics");
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(sunoCallback(taskId), { kind: "lyrics", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(sunoCallback(taskId), { kind: "lyrics", timestamp: ts })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    expect(await eventsOf(taskId, "transfer_started")).toHaveLength(1);
    expect((await eventsOf(taskId, "callback")).map((e) => e.outcome)).toEqual(["applied", "duplicate"]);
    await noneStaged(taskId);
  });

  it("the provider's redelivery after the task is stored leaves nothing staged behind", async () => {
    const taskId = uniqueTaskId("lyrics");
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(sunoCallback(taskId), { kind: "lyrics", timestamp: ts })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    await noneStaged(taskId);
    // The same content, newly signed: a duplicate of what is stored.
    expect((await sendCallback(sunoCallback(taskId), { kind: "lyrics", timestamp: ts + 1 })).status).toBe(200);
    expect(await eventsOf(taskId, "transfer_started")).toHaveLength(1);
    await noneStaged(taskId);
    expect(await r2Keys(`lyrics/${taskId}/`)).toEqual([`lyrics/${taskId}/lyrics.json`]);
    expect(await env.BUCKET.head(`lyrics/${taskId}/lyrics.json`)).not.toBeNull();
  });
});

describe("lyrics: the provider's failure", () => {
  it("kie.ai's failure (callbackType complete, code 400, data null) fails the task and announces lyrics.failed", async () => {
    const taskId = uniqueTaskId("lyrics");
    const body = { code: 400, msg: "Song Description flagged for moderation", data: { callbackType: "complete", task_id: taskId, data: null } };
    expect((await sendCallback(body, { kind: "lyrics" })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ state: "failed", files: [], error: { code: "400", message: "Song Description flagged for moderation" } });
    await expect.poll(() => announcementsFor(taskId).length, { timeout: 10_000 }).toBe(1);
    expect(announcementsFor(taskId)[0]).toMatchObject({ type: "lyrics.failed", data: { taskId, state: "failed", files: [] } });
    expect(await r2Keys(`lyrics/${taskId}/`)).toEqual([]);
  });
});
