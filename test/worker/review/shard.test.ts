// Review fixes in the shard, through the HTTP surface, the cron's per-shard tick and the real
// alarms: a poll that offers nothing new is a pending poll (and the task can expire), a failed
// task's daily look is not picked twice by overlapping ticks, a dispatch that throws waits a
// minute, signatures outlive DELETE until too old (pruned by age on every new signature), and
// the provider's words are kept to a sensible length.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shardNumberOf } from "../../../src/shard/shards";
import { shardOf, storedTask } from "../../helpers/durable";
import { fileResponse, makeJpeg, makeMp3 } from "../../helpers/files";
import { requests, requestsTo, route } from "../../helpers/fake-net";
import { atTime } from "../../helpers/objects";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, getTask, jsonOf, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState } from "../../helpers/worker";
import { recordInfo, RECORD_INFO } from "../kinds-flow/flow";
import { DAY, runAlarm, until } from "./helpers";

const OVERDUE_MS = 300_000; // test/vitest.config.ts
const CDN = "https://cdn.example.com";

afterEach(() => {
  vi.useRealTimers();
});

const pollsOf = (url: string, taskId: string) => requests.filter((r) => r.url.startsWith(url) && new URL(r.url).searchParams.get("taskId") === taskId).length;

describe("a poll whose answer is nothing new", () => {
  it("music: record-info offers only the track already stored — a pending poll, and the task expires at its age limit", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("mus");
    const [mp3, jpeg] = [makeMp3(91), makeJpeg(91)];
    const item = { id: "trk-a", audio_url: `${CDN}/${taskId}/trk-a.mp3`, image_url: `${CDN}/${taskId}/trk-a.jpeg` };
    route("GET", item.audio_url, () => fileResponse(mp3, "audio/mpeg"));
    route("GET", item.image_url, () => fileResponse(jpeg, "image/jpeg"));
    const first = { code: 200, msg: "ok", data: { callbackType: "first", task_id: taskId, data: [item] } };
    expect((await sendCallback(first, { kind: "music" })).status).toBe(200);
    await expect.poll(async () => (await getTask(taskId))?.files.filter((f) => f.state === "stored").length, { timeout: 10_000 }).toBe(2);
    expect((await getTask(taskId))?.state).toBe("pending");

    // The provider never gets further than the first track.
    const record = { taskId, status: "FIRST_SUCCESS", response: { taskId, sunoData: [{ id: "trk-a", audioUrl: item.audio_url, imageUrl: item.image_url }] }, errorCode: null, errorMessage: null };
    recordInfo(new Map([[taskId, record]]));

    const at = t0 + OVERDUE_MS + 1_000;
    const tick = await atTime(at, () => shardOf(taskId).tick(40));
    expect(pollsOf(RECORD_INFO.music, taskId)).toBe(1);
    // A pending poll (not "resolved"): the task waits for the next look like any pending task…
    expect(tick.outcomes.resolved ?? 0).toBe(0);
    expect(tick.outcomes.pending).toBeGreaterThanOrEqual(1);
    expect((await storedTask(taskId))!).toMatchObject({ state: "pending", notice: null });

    // …and expires at its age limit like any pending task.
    await atTime(t0 + DAY + 60_000, () => shardOf(taskId).tick(40));
    expect(pollsOf(RECORD_INFO.music, taskId)).toBe(2);
    const expired = (await getTask(taskId))!;
    expect(expired).toMatchObject({ state: "failed", error: { code: "expired" } });
  });
});

describe("a failed task's daily look", () => {
  it("is not picked again by a tick that overlaps it (30 s later, the provider still answering)", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("daily");
    await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } });
    await waitForState(taskId, ["failed"]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    route("GET", RECORD_INFO.wav, async (req) => {
      const id = new URL(req.url).searchParams.get("taskId")!;
      if (id === taskId && pollsOf(RECORD_INFO.wav, taskId) === 1) await gate; // the first look waits
      return Response.json({ code: 200, msg: "success", data: { taskId: id, successFlag: "PENDING", response: null, errorCode: null, errorMessage: null } });
    });
    for (const [kind, url] of Object.entries(RECORD_INFO)) if (kind !== "wav") route("GET", url, (req) => Response.json({ code: 200, msg: "success", data: { taskId: new URL(req.url).searchParams.get("taskId"), status: "PENDING", successFlag: "PENDING" } }));

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(t0 + DAY + 60_000);
    const look = shardOf(taskId).tick(40);
    await until(() => pollsOf(RECORD_INFO.wav, taskId) === 1);
    vi.setSystemTime(t0 + DAY + 60_000 + 31_000);
    await shardOf(taskId).tick(40);
    expect(pollsOf(RECORD_INFO.wav, taskId)).toBe(1);
    release();
    await look;
    vi.useRealTimers();

    const task = (await storedTask(taskId))!;
    expect(task.state).toBe("failed");
    expect(task.pollAt! - (t0 + DAY + 60_000)).toBeGreaterThan(DAY - 60_000); // the next look, a day on
  });
});

describe("a dispatch that throws", () => {
  it("puts that task's run off a minute instead of bringing the alarm straight back", async () => {
    const taskId = uniqueTaskId("throw");
    const url = `${CDN}/${taskId}.wav`;
    route("GET", url, () => new Response("busy", { status: 503 }));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("source_http_error");
    const shard = shardOf(taskId);
    const runAt = () => runInDurableObject(shard, (_i, state) => state.storage.sql.exec<{ run_at: number | null }>("SELECT run_at FROM tasks WHERE task_id = ?", taskId).one().run_at);
    // Its row cannot be read any more (written by some other version), and its run is due.
    const now = Date.now();
    await runInDurableObject(shard, (_i, state) => {
      state.storage.sql.exec("UPDATE tasks SET data = '{\"taskId\":', run_at = ? WHERE task_id = ?", now - 1, taskId);
    });
    try {
      await runAlarm(shard);
      expect(await runAt()).toBeGreaterThanOrEqual(now + 55_000);
    } finally {
      await runInDurableObject(shard, (_i, state) => {
        state.storage.sql.exec("DELETE FROM tasks WHERE task_id = ?", taskId);
      });
    }
  });
});

describe("signatures of accepted callbacks", () => {
  it("outlive DELETE: the old signature replayed with another result against the re-registered id is refused", async () => {
    const taskId = uniqueTaskId("sig");
    const [a, b] = [`${CDN}/${taskId}-a.wav`, `${CDN}/${taskId}-b.wav`];
    route("GET", a, () => wavResponse(makeWav({ seconds: 1, seed: 92 })));
    route("GET", b, () => wavResponse(makeWav({ seconds: 1, seed: 93 })));
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(successBody(taskId, a), { timestamp: ts })).status).toBe(200);
    await waitForAnnounced(taskId, ["stored"]);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);

    const replay = await sendCallback(successBody(taskId, b), { timestamp: ts });
    expect(replay.status).toBe(409);
    expect((await jsonOf(replay)).error.code).toBe("signature_reused");
    expect(await getTask(taskId)).toMatchObject({ state: "pending", files: [] });
    expect(requestsTo(b)).toHaveLength(0);
  });

  it("are forgotten once too old to be replayed (600 s), when any task of the shard has a new one", async () => {
    const first = uniqueTaskId("sig");
    let second = uniqueTaskId("sig");
    while (shardNumberOf(second) !== shardNumberOf(first)) second = uniqueTaskId("sig");
    const t0 = Date.now();
    expect((await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: first } })).status).toBe(200);
    const rows = (taskId: string) =>
      runInDurableObject(shardOf(taskId), (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM signed_stages WHERE task_id = ?", taskId).one().n);
    expect(await rows(first)).toBe(1);
    // 601 s later another task of the same shard (new to it) is called back.
    await atTime(t0 + 601_000, async () => {
      expect((await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: second } })).status).toBe(200);
    });
    expect(await rows(second)).toBe(1);
    expect(await rows(first)).toBe(0);
  });
});

describe("the provider's words", () => {
  it("a failed record's error code is kept to 64 characters and its message to 2,000", async () => {
    const taskId = uniqueTaskId("words");
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    route("GET", RECORD_INFO.wav, () =>
      Response.json({ code: 200, msg: "success", data: { taskId, successFlag: "GENERATE_WAV_FAILED", response: null, errorCode: "E".repeat(300), errorMessage: "m".repeat(10_000) } }),
    );
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    const task = await waitForState(taskId, ["failed"]);
    expect(task.error!.code).toBe("E".repeat(64));
    expect(task.error!.message).toBe("m".repeat(2000));
  });

  it("a record's flag is kept to 64 characters in the task's history", async () => {
    const taskId = uniqueTaskId("words");
    const url = `${CDN}/${taskId}.wav`;
    route("GET", url, () => wavResponse(makeWav({ seconds: 1, seed: 94 })));
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    route("GET", RECORD_INFO.wav, () => Response.json({ code: 200, msg: "success", data: { taskId, successFlag: "F".repeat(500), response: { audioWavUrl: url }, errorCode: null, errorMessage: null } }));
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    await waitForState(taskId, ["stored"]);
    const { events } = await jsonOf(await api(`/api/tasks/${taskId}/events`));
    const polls = (events as { type: string; flag?: string }[]).filter((e) => e.type === "poll");
    expect(polls.map((e) => e.flag)).toEqual(["F".repeat(64)]);
  });
});
