// Stems: one <stem>.mp3 per non-empty *_url of the callback's vocal_removal_info (or, on kie.ai's
// current pages, vocal_separation_info), kept with every guarantee a WAV has.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { fileResponse, HTML_PAGE, makeMp3 } from "../../helpers/files";
import { requestsTo, route } from "../../helpers/fake-net";
import { api, getTask, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";
import {
  announcement,
  CDN,
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

afterEach(() => {
  vi.useRealTimers();
});

const SPLIT = ["vocal", "backing_vocals", "drums", "bass", "guitar", "keyboard", "percussion", "strings", "synth", "fx", "brass", "woodwinds"] as const;

/** Serves one MP3 per stem and returns the callback's info object and what must be stored. */
function stems(taskId: string, names: readonly string[], seed: number) {
  const files = names.map((stem, i) => {
    const bytes = makeMp3(seed * 100 + i, 3000 + i * 17);
    const url = `${CDN}/${taskId}/${stem}.mp3`;
    route("GET", url, () => fileResponse(bytes, "audio/mpeg"));
    return { stem, url, bytes };
  });
  const info: Record<string, string> = { origin_url: "" };
  for (const f of files) info[`${f.stem}_url`] = f.url;
  const expected: Expected[] = files.map((f) => ({ name: `${f.stem}.mp3`, bytes: f.bytes, contentType: "audio/mpeg", role: "stem", track: null }));
  return { files, info, expected, url: (stem: string) => files.find((f) => f.stem === stem)!.url };
}

const camel = (stem: string) => stem.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** record-info's `data` for a stems task (docs.kie.ai's shape, camelCase keys, the rest null). */
function record(taskId: string, successFlag: string, urls: Record<string, string>) {
  const response: Record<string, unknown> = { id: null, originUrl: null, originData: [{ duration: 245.6, audio_url: "https://example001.mp3", stem_type_group_name: "Vocals", id: "3d7021c9" }] };
  for (const k of ["instrumental", "vocal", "backing_vocals", "drums", "bass", "guitar", "piano", "keyboard", "percussion", "strings", "synth", "fx", "brass", "woodwinds"]) {
    response[`${camel(k)}Url`] = urls[k] ?? null;
  }
  return { taskId, musicId: "376c687e", callbackUrl: "https://edge.test/callbacks/stems", musicIndex: 0, completeTime: 1753782937000, response, successFlag, createTime: 1753782854000, errorCode: null, errorMessage: null };
}

const separated = (taskId: string, info: Record<string, string>, key = "vocal_removal_info") => ({
  code: 200,
  msg: "vocal Removal generated successfully.",
  data: { task_id: taskId, [key]: info },
});

describe("stems: a signed callback", () => {
  it("separate_vocal (vocal_removal_info): vocal.mp3 and instrumental.mp3 stored, announced with a link each", async () => {
    const taskId = uniqueTaskId("stems");
    const s = stems(taskId, ["instrumental", "vocal"], 1);
    expect((await sendCallback(separated(taskId, s.info), { kind: "stems" })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ kind: "stems", state: "stored", error: null });
    expect(task.files.map((f) => f.name).sort()).toEqual(["instrumental.mp3", "vocal.mp3"]);
    await expectFilesStored(task, s.expected);
    expect((await r2Keys(`stems/${taskId}/`)).sort()).toEqual([`stems/${taskId}/instrumental.mp3`, `stems/${taskId}/vocal.mp3`]);
    await expectAnnounced(taskId, "stems.stored", s.expected);
  });

  it("split_stem (vocal_separation_info): all twelve stems stored; origin_url \"\" is no file", async () => {
    const taskId = uniqueTaskId("stems");
    const s = stems(taskId, SPLIT, 2);
    const res = await sendCallback({ ...separated(taskId, s.info, "vocal_separation_info"), msg: "vocal separation generated successfully." }, { kind: "stems" });
    expect(res.status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.files.map((f) => f.name).sort()).toEqual(SPLIT.map((x) => `${x}.mp3`).sort());
    await expectFilesStored(task, s.expected);
    await expectAnnounced(taskId, "stems.stored", s.expected);
  });

  it("a callback signed over another task id is 401 and records nothing", async () => {
    const taskId = uniqueTaskId("stems");
    const s = stems(taskId, ["instrumental", "vocal"], 3);
    const res = await sendCallback(separated(taskId, s.info), { kind: "stems", taskId: `${taskId}-x` });
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).error.code).toBe("invalid_signature");
    await expectNothingRecorded("stems", taskId, s.files.map((f) => f.url));
  });
});

describe("stems: the lost callback, found by the cron", () => {
  it("overdue → vocal-removal/record-info SUCCESS → every stem stored", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("stems");
    const s = stems(taskId, ["vocal", "drums", "bass", "backing_vocals"], 4);
    recordInfo(new Map([[taskId, record(taskId, "SUCCESS", Object.fromEntries(s.files.map((f) => [f.stem, f.url])))]]));
    await register(taskId, "stems");
    const report = await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(report.outcomes.resolved).toBeGreaterThanOrEqual(1);
    expect(pollsOf("stems", taskId)).toBe(1);
    await runDue(taskId);
    const task = (await getTask(taskId))!;
    expect(task.state).toBe("stored");
    expect(task.files.map((f) => f.name).sort()).toEqual(["backing_vocals.mp3", "bass.mp3", "drums.mp3", "vocal.mp3"]);
    await expectFilesStored(task, s.expected);
    await expectAnnounced(taskId, "stems.stored", s.expected);
  });
});

describe("stems: wrong bytes", () => {
  it("a stem served as an HTML page fails with not_mp3; the others are stored; a retry fetches only it", async () => {
    const taskId = uniqueTaskId("stems");
    const s = stems(taskId, ["vocal", "drums", "bass"], 5);
    route("GET", s.url("drums"), () => fileResponse(HTML_PAGE, "text/html"));
    recordInfo(new Map([[taskId, record(taskId, "SUCCESS", Object.fromEntries(s.files.map((f) => [f.stem, f.url])))]]));
    expect((await sendCallback(separated(taskId, s.info), { kind: "stems" })).status).toBe(200);
    const failed = await waitForState(taskId, ["stored", "failed"]);
    expect(failed.state).toBe("failed");
    expect(failed.error).toMatchObject({ code: "not_mp3" });
    expect(failed.error?.message).toContain("drums.mp3");
    for (const name of ["vocal.mp3", "bass.mp3"]) await fileSettled(taskId, name);
    const task = (await getTask(taskId))!;
    expect(task.files.find((f) => f.name === "drums.mp3")).toMatchObject({ state: "failed", error: { code: "not_mp3" } });
    await expectFilesStored(task, s.expected.filter((e) => e.name !== "drums.mp3"));
    expect(await env.BUCKET.head(`stems/${taskId}/drums.mp3`)).toBeNull();
    expect((await announcement(taskId)).type).toBe("stems.failed");

    route("GET", s.url("drums"), () => fileResponse(s.files[1]!.bytes, "audio/mpeg"));
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    const done = await waitForState(taskId, ["stored", "failed"]);
    expect(done.state).toBe("stored");
    await expectFilesStored(done, s.expected);
    expect(requestsTo(s.url("drums"))).toHaveLength(2);
    expect(requestsTo(s.url("vocal"))).toHaveLength(1);
    expect(requestsTo(s.url("bass"))).toHaveLength(1);
  });
});

describe("stems: duplicates", () => {
  it("the same callback twice (and in the other spelling) fetches each stem once", async () => {
    const taskId = uniqueTaskId("stems");
    const s = stems(taskId, ["vocal", "instrumental"], 6);
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(separated(taskId, s.info), { kind: "stems", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(separated(taskId, s.info), { kind: "stems", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(separated(taskId, s.info, "vocal_separation_info"), { kind: "stems", timestamp: ts + 1 })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    for (const f of s.files) expect(requestsTo(f.url)).toHaveLength(1);
    expect(await eventsOf(taskId, "transfer_started")).toHaveLength(2);
  });
});

describe("stems: an expired link", () => {
  it("a stem whose source answers 403 is fetched next from the URL record-info gives now", async () => {
    const taskId = uniqueTaskId("stems");
    const s = stems(taskId, ["vocal", "drums"], 7);
    const fresh = `https://cdn2.example.com/${taskId}/drums.mp3?sig=fresh`;
    const drums = s.files.find((f) => f.stem === "drums")!;
    route("GET", drums.url, () => new Response("<Error>AccessDenied</Error>", { status: 403 }));
    route("GET", fresh, () => fileResponse(drums.bytes, "audio/mpeg"));
    recordInfo(new Map([[taskId, record(taskId, "SUCCESS", { vocal: s.url("vocal"), drums: fresh })]]));
    expect((await sendCallback(separated(taskId, s.info), { kind: "stems" })).status).toBe(200);

    await fileSettled(taskId, "vocal.mp3");
    await expect.poll(async () => (await getTask(taskId))?.files.find((f) => f.name === "drums.mp3")?.error?.code, { timeout: 10_000 }).toBe("source_http_error");
    expect(pollsOf("stems", taskId)).toBe(0); // not yet: the next attempt asks
    await nextAttempt(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    await expectFilesStored(task, s.expected);
    expect(pollsOf("stems", taskId)).toBe(1);
    expect(requestsTo(drums.url)).toHaveLength(1);
    expect(requestsTo(fresh)).toHaveLength(1);
    expect(requestsTo(s.url("vocal"))).toHaveLength(1);
    const polls = await eventsOf(taskId, "poll");
    expect(polls).toHaveLength(1);
    expect(polls[0]).toMatchObject({ flag: "SUCCESS" });
  });
});
