// A music generation kept whole: two tracks' MP3 and cover art, through the callback stages.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { fileResponse, HTML_PAGE, makeJpeg, makeMp3 } from "../../helpers/files";
import { requestsTo, route } from "../../helpers/fake-net";
import { sha256Hex } from "../../helpers/wav";
import { api, getTask, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";
import {
  announcement,
  announcementsFor,
  eventsOf,
  expectAnnounced,
  expectFilesStored,
  expectNothingRecorded,
  fileSettled,
  nextAttempt,
  OVERDUE_MS,
  pollsOf,
  r2Keys,
  recordInfo,
  register,
  tickAt,
  type Expected,
} from "./flow";

const CDN = "https://cdn.example.com";

function track(taskId: string, id: string, seed: number) {
  const mp3 = makeMp3(seed);
  const jpeg = makeJpeg(seed);
  route("GET", `${CDN}/${taskId}/${id}.mp3`, () => fileResponse(mp3, "audio/mpeg"));
  route("GET", `${CDN}/${taskId}/${id}.jpeg`, () => fileResponse(jpeg, "image/jpeg"));
  return { id, mp3, jpeg, item: { id, audio_url: `${CDN}/${taskId}/${id}.mp3`, image_url: `${CDN}/${taskId}/${id}.jpeg`, stream_audio_url: `${CDN}/stream/${id}`, title: "t", duration: 3.2 } };
}

const body = (taskId: string, callbackType: string, data: unknown[] | null, code = 200) => ({ code, msg: "ok", data: { callbackType, task_id: taskId, data } });

describe("music", () => {
  it("text → first → complete: every track's MP3 and cover stored once, with the right bytes, type and sha256", async () => {
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "track-a", 1);
    const b = track(taskId, "track-b", 2);
    expect((await sendCallback(body(taskId, "text", []), { kind: "music" })).status).toBe(200);
    expect((await jsonOf(await api(`/api/tasks/${taskId}`))).state).toBe("pending");

    expect((await sendCallback(body(taskId, "first", [a.item]), { kind: "music", timestamp: Math.floor(Date.now() / 1000) + 1 })).status).toBe(200);
    await expect.poll(async () => (await jsonOf(await api(`/api/tasks/${taskId}`))).files.filter((f: { state: string }) => f.state === "stored").length, { timeout: 10_000 }).toBe(2);
    expect((await jsonOf(await api(`/api/tasks/${taskId}`))).state).toBe("pending"); // not complete yet

    expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: Math.floor(Date.now() / 1000) + 2 })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ kind: "music", state: "stored", wav: null, error: null });
    expect(task.files.map((f) => f.name).sort()).toEqual(["track-a.jpeg", "track-a.mp3", "track-b.jpeg", "track-b.mp3"]);
    for (const t of [a, b]) {
      for (const [ext, bytes, type, role] of [["mp3", t.mp3, "audio/mpeg", "audio"], ["jpeg", t.jpeg, "image/jpeg", "image"]] as const) {
        const f = task.files.find((x) => x.name === `${t.id}.${ext}`)!;
        expect(f).toMatchObject({ role, track: t.id, state: "stored", size: bytes.length, contentType: type, key: `music/${taskId}/${t.id}.${ext}` });
        expect(f.sha256).toBe(await sha256Hex(bytes));
        const res = await api(`/api/tasks/${taskId}/files/${t.id}.${ext}`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe(type);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
        // Fetched once, though named by first and again by complete.
        expect(requestsTo(`${CDN}/${taskId}/${t.id}.${ext}`)).toHaveLength(1);
      }
    }
    expect(requestsTo(`${CDN}/stream/track-a`)).toHaveLength(0); // the preview is not kept
    expect(await env.BUCKET.head(`music/${taskId}/track-b.mp3`)).not.toBeNull();
  });
});

// ── Every file the provider makes, with every guarantee (SPEC, "Every kind of task") ─────────────

/** A record-info `data` about a music task, as docs.sunoapi.org shows it. */
function record(taskId: string, status: string, tracks: ReturnType<typeof track>[]) {
  return {
    taskId,
    parentMusicId: "",
    param: JSON.stringify({ prompt: "A calm piano track", customMode: false, instrumental: true, model: "V4_5ALL" }),
    response: {
      taskId,
      sunoData: tracks.map((t) => ({
        id: t.id,
        audioUrl: t.item.audio_url,
        streamAudioUrl: t.item.stream_audio_url,
        imageUrl: t.item.image_url,
        prompt: "[Verse] …",
        modelName: "chirp-v3-5",
        title: "t",
        tags: "calm",
        createTime: "2025-01-01 00:00:00",
        duration: 3.2,
      })),
    },
    status,
    type: "GENERATE",
    operationType: "generate",
    errorCode: null,
    errorMessage: null,
  };
}

function expected(t: ReturnType<typeof track>): Expected[] {
  return [
    { name: `${t.id}.mp3`, bytes: t.mp3, contentType: "audio/mpeg", role: "audio", track: t.id },
    { name: `${t.id}.jpeg`, bytes: t.jpeg, contentType: "image/jpeg", role: "image", track: t.id },
  ];
}

afterEach(() => {
  vi.useRealTimers();
});

describe("music: a complete callback", () => {
  it("stores every track's MP3 and cover under music/<taskId>/ and announces music.stored with a link per file", async () => {
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "trk-a", 11);
    const b = track(taskId, "trk-b", 12);
    const res = await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music" });
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({ code: 200, msg: "success" });
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ kind: "music", state: "stored", error: null, wav: null, source: null });
    expect(task.files).toHaveLength(4);
    await expectFilesStored(task, [...expected(a), ...expected(b)]);
    expect((await r2Keys(`music/${taskId}/`)).sort()).toEqual([`music/${taskId}/trk-a.jpeg`, `music/${taskId}/trk-a.mp3`, `music/${taskId}/trk-b.jpeg`, `music/${taskId}/trk-b.mp3`]);
    const a1 = await expectAnnounced(taskId, "music.stored", [...expected(a), ...expected(b)]);
    expect(a1.data).toMatchObject({ kind: "music", state: "stored" });
    expect(a1.data.files.map((f) => f.sha256)).toEqual(task.files.map((f) => f.sha256));
  });

  it("a callback signed over another task id is 401 and records nothing", async () => {
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "trk-a", 13);
    const res = await sendCallback(body(taskId, "complete", [a.item]), { kind: "music", taskId: uniqueTaskId("other") });
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).error.code).toBe("invalid_signature");
    await expectNothingRecorded("music", taskId, [a.item.audio_url, a.item.image_url]);
  });
});

describe("music: the lost callback, found by the cron", () => {
  it("FIRST_SUCCESS stores the first track and leaves the task open; SUCCESS stores the rest", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "trk-a", 21);
    const b = track(taskId, "trk-b", 22);
    const answers = new Map<string, unknown>([[taskId, record(taskId, "FIRST_SUCCESS", [a])]]);
    recordInfo(answers);
    await register(taskId, "music");

    await tickAt(t0 + OVERDUE_MS - 5_000);
    expect(pollsOf("music", taskId)).toBe(0); // not overdue yet
    const first = t0 + OVERDUE_MS + 1_000;
    const report = await tickAt(first);
    expect(report.outcomes.resolved).toBeGreaterThanOrEqual(1);
    expect(pollsOf("music", taskId)).toBe(1);
    expect((await getTask(taskId))?.state).toBe("downloading");
    await runDue(taskId);
    const half = (await getTask(taskId))!;
    expect(half.state).toBe("pending"); // the provider has not said complete: not final
    expect(half.notification.state).toBe("waiting");
    expect(half.files.map((f) => [f.name, f.state])).toEqual([["trk-a.mp3", "stored"], ["trk-a.jpeg", "stored"]]);
    await expectFilesStored(half, expected(a));

    answers.set(taskId, record(taskId, "SUCCESS", [a, b]));
    await tickAt(first + 31_000);
    expect(pollsOf("music", taskId)).toBe(2);
    await runDue(taskId);
    const task = (await getTask(taskId))!;
    expect(task.state).toBe("stored");
    await expectFilesStored(task, [...expected(a), ...expected(b)]);
    // The first track's files, named again by SUCCESS, were fetched once.
    for (const url of [a.item.audio_url, a.item.image_url, b.item.audio_url, b.item.image_url]) expect(requestsTo(url)).toHaveLength(1);
    // Announced while the clock is still where the tick left it (the signature's timestamp is checked).
    await expectAnnounced(taskId, "music.stored", [...expected(a), ...expected(b)]);
  });
});

describe("music: wrong bytes", () => {
  for (const [bad, code] of [["mp3", "not_mp3"], ["jpeg", "not_jpeg"]] as const) {
    it(`a ${bad} served as an HTML page fails that file with ${code}; its siblings are stored; a retry fetches only it`, async () => {
      const taskId = uniqueTaskId("music");
      const a = track(taskId, "trk-a", 31);
      const b = track(taskId, "trk-b", 32);
      const badUrl = bad === "mp3" ? b.item.audio_url : b.item.image_url;
      const badName = `trk-b.${bad}`;
      route("GET", badUrl, () => fileResponse(HTML_PAGE, "text/html"));
      recordInfo(new Map([[taskId, record(taskId, "SUCCESS", [a, b])]]));
      expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music" })).status).toBe(200);

      const failed = await waitForState(taskId, ["stored", "failed"]);
      expect(failed.state).toBe("failed");
      expect(failed.error?.code).toBe(code);
      expect(failed.error?.message).toContain(badName);
      const siblings = [...expected(a), ...expected(b)].filter((e) => e.name !== badName);
      for (const s of siblings) await fileSettled(taskId, s.name);
      const task = (await getTask(taskId))!;
      expect(task.state).toBe("failed");
      expect(task.files.find((f) => f.name === badName)).toMatchObject({ state: "failed", sha256: null, error: { code } });
      await expectFilesStored(task, siblings);
      expect(await env.BUCKET.head(`music/${taskId}/${badName}`)).toBeNull();
      // Announced as failed; every file stored by then carries its link.
      const ann = await announcement(taskId);
      expect(ann.type).toBe("music.failed");
      expect(ann.data.error?.code).toBe(code);
      for (const f of ann.data.files) expect(Boolean(f.downloadUrl)).toBe(f.state === "stored");
      expect(ann.data.files.find((f) => f.name === badName)?.downloadUrl).toBeUndefined();

      const good = bad === "mp3" ? b.mp3 : b.jpeg;
      route("GET", badUrl, () => fileResponse(good, bad === "mp3" ? "audio/mpeg" : "image/jpeg"));
      const retry = await api(`/api/tasks/${taskId}/retry`, { method: "POST" });
      expect(retry.status).toBe(202);
      expect((await jsonOf(retry)).state).toBe("downloading");
      const done = await waitForState(taskId, ["stored", "failed"]);
      expect(done.state).toBe("stored");
      await expectFilesStored(done, [...expected(a), ...expected(b)]);
      expect(requestsTo(badUrl)).toHaveLength(2);
      for (const s of siblings) {
        expect(requestsTo(`${CDN}/${taskId}/${s.name}`), `${s.name} is not fetched again`).toHaveLength(1);
      }
      await expect.poll(() => announcementsFor(taskId).map((x) => x.type), { timeout: 10_000 }).toEqual(["music.failed", "music.stored"]);
    });
  }
});

describe("music: duplicates", () => {
  it("the same complete callback twice fetches each file once", async () => {
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "trk-a", 41);
    const b = track(taskId, "trk-b", 42);
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: ts })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    // The provider's redelivery, newly signed, after the task is stored.
    expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: ts + 1 })).status).toBe(200);
    for (const url of [a.item.audio_url, a.item.image_url, b.item.audio_url, b.item.image_url]) expect(requestsTo(url)).toHaveLength(1);
    expect(await eventsOf(taskId, "transfer_started")).toHaveLength(4);
    expect((await eventsOf(taskId, "callback")).map((e) => e.outcome)).toEqual(["applied", "duplicate", "duplicate"]);
    expect((await getTask(taskId))?.state).toBe("stored");
  });

  it("first twice, then complete twice: each file fetched once, one announcement", async () => {
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "trk-a", 43);
    const b = track(taskId, "trk-b", 44);
    const ts = Math.floor(Date.now() / 1000);
    await sendCallback(body(taskId, "first", [a.item]), { kind: "music", timestamp: ts });
    await sendCallback(body(taskId, "first", [a.item]), { kind: "music", timestamp: ts });
    await expect.poll(async () => (await getTask(taskId))?.files.filter((f) => f.state === "stored").length, { timeout: 10_000 }).toBe(2);
    await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: ts + 1 });
    await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: ts + 1 });
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    await expectFilesStored(task, [...expected(a), ...expected(b)]);
    for (const url of [a.item.audio_url, a.item.image_url, b.item.audio_url, b.item.image_url]) expect(requestsTo(url)).toHaveLength(1);
    await expect.poll(async () => (await getTask(taskId))?.notification.state, { timeout: 10_000 }).toBe("delivered");
    expect(announcementsFor(taskId)).toHaveLength(1);
  });
});

describe("music: replayed signatures", () => {
  it("the same X-Webhook-Timestamp/Signature with another body is 409 signature_reused and changes nothing", async () => {
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "trk-a", 51);
    const b = track(taskId, "trk-b", 52);
    const evil = { ...a.item, audio_url: `https://evil.example.com/${taskId}.mp3` };
    route("GET", evil.audio_url, () => fileResponse(makeMp3(99), "audio/mpeg"));
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: ts })).status).toBe(200);
    const before = await waitForState(taskId, ["stored", "failed"]);

    const replay = await sendCallback(body(taskId, "complete", [evil, b.item]), { kind: "music", timestamp: ts });
    expect(replay.status).toBe(409);
    expect((await jsonOf(replay)).error.code).toBe("signature_reused");
    // Another stage under the same signature is a replay too.
    const replayFailure = await sendCallback({ code: 501, msg: "Audio generation failed", data: { callbackType: "error", task_id: taskId, data: null } }, { kind: "music", timestamp: ts });
    expect(replayFailure.status).toBe(409);
    // The identical callback again is an ordinary duplicate.
    expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: ts })).status).toBe(200);

    const after = (await getTask(taskId))!;
    expect(after.state).toBe("stored");
    expect(after.files).toEqual(before.files);
    expect(requestsTo(evil.audio_url)).toHaveLength(0);
    await expectFilesStored(after, [...expected(a), ...expected(b)]);
    expect((await eventsOf(taskId, "callback")).map((e) => e.outcome)).toEqual(["applied", "signature_reused", "signature_reused", "duplicate"]);
  });
});

describe("music: a source in trouble", () => {
  it("a file whose source answers 503 is retried with backoff (30 s) while the others are stored", async () => {
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "trk-a", 61);
    const b = track(taskId, "trk-b", 62);
    let up = false;
    route("GET", b.item.audio_url, () => (up ? fileResponse(b.mp3, "audio/mpeg") : new Response("busy", { status: 503 })));
    expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music" })).status).toBe(200);

    for (const name of ["trk-a.mp3", "trk-a.jpeg", "trk-b.jpeg"]) await fileSettled(taskId, name);
    await expect.poll(async () => (await getTask(taskId))?.files.find((f) => f.name === "trk-b.mp3")?.error?.code, { timeout: 10_000 }).toBe("source_http_error");
    const waiting = (await getTask(taskId))!;
    expect(waiting).toMatchObject({ state: "downloading", error: { code: "source_http_error" } });
    expect(waiting.files.find((f) => f.name === "trk-b.mp3")).toMatchObject({ state: "waiting", sha256: null });
    await expectFilesStored(waiting, [...expected(a), expected(b)[1]!]);
    const [failedAttempt] = await eventsOf(taskId, "transfer_failed");
    expect(failedAttempt).toMatchObject({ attempt: 1, code: "source_http_error", retryable: true });
    expect(Date.parse(failedAttempt!.nextAttemptAt as string) - Date.parse(failedAttempt!.at as string)).toBe(30_000);
    expect(waiting.nextAttemptAt).toBe(failedAttempt!.nextAttemptAt);

    // The second attempt fails too: the gap grows to 2 min.
    await nextAttempt(taskId);
    const second = (await eventsOf(taskId, "transfer_failed"))[1]!;
    expect(second).toMatchObject({ attempt: 2, retryable: true });
    expect(Date.parse(second.nextAttemptAt as string) - Date.parse(second.at as string)).toBe(120_000);

    up = true;
    await nextAttempt(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    await expectFilesStored(task, [...expected(a), ...expected(b)]);
    expect(requestsTo(b.item.audio_url)).toHaveLength(3);
    for (const url of [a.item.audio_url, a.item.image_url, b.item.image_url]) expect(requestsTo(url)).toHaveLength(1);
  });
});

describe("music stages under one signature", () => {
  it("text, first and complete sent within the same second (same headers) are all taken; another complete under them is a replay", async () => {
    const taskId = uniqueTaskId("music");
    const a = track(taskId, "same-a", 11);
    const b = track(taskId, "same-b", 12);
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(body(taskId, "text", []), { kind: "music", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(body(taskId, "first", [a.item]), { kind: "music", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(body(taskId, "complete", [a.item, b.item]), { kind: "music", timestamp: ts })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.files).toHaveLength(4);
    // The same headers with another `complete` (other URLs): refused, and nothing changes.
    const evil = { ...b.item, id: "evil", audio_url: `${CDN}/${taskId}/evil.mp3`, image_url: null };
    const replay = await sendCallback(body(taskId, "complete", [a.item, evil]), { kind: "music", timestamp: ts });
    expect(replay.status).toBe(409);
    expect((await jsonOf(replay)).error.code).toBe("signature_reused");
    expect(requestsTo(`${CDN}/${taskId}/evil.mp3`)).toHaveLength(0);
  });
});
