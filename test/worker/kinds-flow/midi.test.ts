// MIDI: the notes travel inside the callback; midi.json keeps them as received and midi.mid is a
// Standard MIDI File made from them.
import { parseMidi } from "midi-file";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { sha256Hex } from "../../helpers/wav";
import { api, call, getTask, jsonOf, ORIGIN, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";
import { announcementsFor, bytesOf, eventsOf, expectAnnounced, expectFilesStored, expectNothingRecorded, OVERDUE_MS, pollsOf, r2Keys, recordInfo, register, tickAt, utf8 } from "./flow";

const NOTES = {
  state: "complete",
  instruments: [
    { name: "Drums", notes: [{ pitch: 36, start: "0.0", end: "0.25", velocity: 1 }, { pitch: 38, start: 0.5, end: "0.75", velocity: 0.8 }] },
    { name: "Electric Bass (finger)", notes: [{ pitch: 40, start: 0, end: 1.5, velocity: 1 }, { pitch: 43, start: "1.5", end: 2, velocity: 0.5 }, { pitch: 45, start: 2, end: 3, velocity: 0.9 }] },
  ],
};

describe("midi", () => {
  it("keeps the notes as midi.json and makes midi.mid that parses back to the same notes; the staged copy goes", async () => {
    const taskId = uniqueTaskId("midi");
    const res = await sendCallback({ task_id: taskId, code: 200, msg: "success", data: NOTES }, { kind: "midi" });
    expect(res.status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.files.map((f) => [f.name, f.contentType])).toEqual([["midi.json", "application/json"], ["midi.mid", "audio/midi"]]);
    expect(await jsonOf(await api(`/api/tasks/${taskId}/files/midi.json`))).toEqual(NOTES);
    const mid = parseMidi(new Uint8Array(await (await api(`/api/tasks/${taskId}/files/midi.mid`)).arrayBuffer()));
    const instruments = mid.tracks.slice(1); // track 0 holds the tempo
    const name = (t: typeof instruments[number]) => t.find((e) => e.type === "trackName") as { text: string } | undefined;
    expect(instruments.map((t) => name(t)?.text)).toEqual(["Drums", "Electric Bass (finger)"]);
    const ons = instruments.map((t) => t.filter((e) => e.type === "noteOn") as { noteNumber: number; channel: number; deltaTime: number }[]);
    expect(ons.map((n) => n.length)).toEqual([2, 3]);
    expect(ons[1]!.map((n) => n.noteNumber)).toEqual([40, 43, 45]);
    expect(ons[0]!.every((n) => n.channel === 9)).toBe(true);
    // The second bass note starts at 1.5 s: 1,440 ticks at 960 a second.
    let tick = 0;
    const starts: number[] = [];
    for (const e of instruments[1]!) {
      tick += e.deltaTime;
      if (e.type === "noteOn") starts.push(tick);
    }
    expect(starts).toEqual([0, 1440, 1920]);
    await expect.poll(async () => (await env.BUCKET.list({ prefix: `midi/${taskId}/incoming/` })).objects.length, { timeout: 5_000 }).toBe(0);
  });
});

// ── Every guarantee, for content that travels inside the callback ───────────────────────────────

afterEach(() => {
  vi.useRealTimers();
});

const callback = (taskId: string, data: unknown = NOTES) => ({ task_id: taskId, code: 200, msg: "success", data });

/** Nothing is left under midi/<id>/incoming/ (staged content goes once its files are stored). */
async function noneStaged(taskId: string) {
  await expect.poll(() => r2Keys(`midi/${taskId}/incoming/`), { timeout: 10_000 }).toEqual([]);
}

/** midi.json is the data as received; midi.mid is a Standard MIDI File of it. Both checked against R2 and the task. */
async function expectMidiStored(taskId: string, data: unknown) {
  const task = (await getTask(taskId))!;
  await expectFilesStored(task, [{ name: "midi.json", bytes: utf8(JSON.stringify(data)), contentType: "application/json", role: "midi", track: null }]);
  const res = await api(`/api/tasks/${taskId}/files/midi.mid`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("audio/midi");
  const mid = await bytesOf(res);
  expect(String.fromCharCode(...mid.subarray(0, 4))).toBe("MThd");
  const file = task.files.find((f) => f.name === "midi.mid")!;
  expect(file).toMatchObject({ state: "stored", size: mid.length, key: `midi/${taskId}/midi.mid`, role: "midi" });
  expect(file.sha256).toBe(await sha256Hex(mid));
  expect(new Uint8Array(await (await env.BUCKET.get(`midi/${taskId}/midi.mid`))!.arrayBuffer())).toEqual(mid);
  return { task, mid: parseMidi(mid) };
}

describe("midi: every guarantee", () => {
  it("is announced as midi.stored with a working link for midi.json and midi.mid", async () => {
    const taskId = uniqueTaskId("midi");
    expect((await sendCallback(callback(taskId), { kind: "midi" })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    const { mid } = await expectMidiStored(taskId, NOTES);
    expect(mid.tracks).toHaveLength(3);
    const ann = await expectAnnounced(taskId, "midi.stored", [{ name: "midi.json", bytes: utf8(JSON.stringify(NOTES)), contentType: "application/json" }]);
    const midLink = ann.data.files.find((f) => f.name === "midi.mid")!.downloadUrl!;
    const viaLink = await call(midLink.slice(ORIGIN.length));
    expect(viaLink.status).toBe(200);
    expect(await bytesOf(viaLink)).toEqual(await bytesOf(await api(`/api/tasks/${taskId}/files/midi.mid`)));
    expect((await r2Keys(`midi/${taskId}/`)).sort()).toEqual([`midi/${taskId}/midi.json`, `midi/${taskId}/midi.mid`]);
  });

  it("the older spellings of the id (data.taskId) are read too", async () => {
    const taskId = uniqueTaskId("midi");
    const data = { taskId, ...NOTES };
    expect((await sendCallback({ code: 200, msg: "success", data }, { kind: "midi" })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    await expectMidiStored(taskId, data);
  });

  it("a callback signed over another task id is 401 and records nothing, not even staged notes", async () => {
    const taskId = uniqueTaskId("midi");
    const res = await sendCallback(callback(taskId), { kind: "midi", taskId: uniqueTaskId("midi") });
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).error.code).toBe("invalid_signature");
    await expectNothingRecorded("midi", taskId);
    expect(await r2Keys(`midi/${taskId}/incoming/`)).toEqual([]);
  });

  it("the lost callback: overdue → midi/record-info successFlag 1 → midi.json and midi.mid made from midiData", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("midi");
    const midiData = { state: "complete", instruments: [{ name: "Drums", notes: [{ pitch: 73, start: 0.036458333333333336, end: 0.18229166666666666, velocity: 1 }] }] };
    const answers = new Map<string, unknown>([[taskId, { taskId, recordTaskId: -1, audioId: "e231-8cadc7dc", callbackUrl: "https://edge.test/callbacks/midi", completeTime: null, midiData: null, successFlag: 0, createTime: 1760335251000, errorCode: null, errorMessage: null }]]);
    recordInfo(answers);
    await register(taskId, "midi");
    await tickAt(t0 + OVERDUE_MS + 1_000);
    expect(pollsOf("midi", taskId)).toBe(1);
    expect((await getTask(taskId))?.state).toBe("pending");
    answers.set(taskId, { ...(answers.get(taskId) as object), completeTime: 1760335255000, midiData, successFlag: 1 });
    await tickAt(t0 + OVERDUE_MS + 32_000);
    expect(pollsOf("midi", taskId)).toBe(2);
    await runDue(taskId);
    expect((await getTask(taskId))?.state).toBe("stored");
    const { mid } = await expectMidiStored(taskId, midiData);
    expect(mid.tracks[1]!.filter((e) => e.type === "noteOn").map((e) => (e as { noteNumber: number }).noteNumber)).toEqual([73]);
    await runDue(taskId); // the staged copy is removed from the shard's alarm
    await noneStaged(taskId);
  });

  it("the same callback twice makes each file once and leaves nothing staged", async () => {
    const taskId = uniqueTaskId("midi");
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(callback(taskId), { kind: "midi", timestamp: ts })).status).toBe(200);
    expect((await sendCallback(callback(taskId), { kind: "midi", timestamp: ts })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    expect(await eventsOf(taskId, "transfer_started")).toHaveLength(2);
    expect((await eventsOf(taskId, "callback")).map((e) => e.outcome)).toEqual(["applied", "duplicate"]);
    await noneStaged(taskId);
  });

  it("the provider's redelivery after the task is stored leaves nothing staged behind", async () => {
    const taskId = uniqueTaskId("midi");
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(callback(taskId), { kind: "midi", timestamp: ts })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    await noneStaged(taskId);
    expect((await sendCallback(callback(taskId), { kind: "midi", timestamp: ts + 1 })).status).toBe(200);
    expect(await eventsOf(taskId, "transfer_started")).toHaveLength(2);
    await noneStaged(taskId);
    expect((await r2Keys(`midi/${taskId}/`)).sort()).toEqual([`midi/${taskId}/midi.json`, `midi/${taskId}/midi.mid`]);
  });
});

describe("midi: body limits (1 MiB: the notes travel inside the callback)", () => {
  /** A callback with `count` notes on one instrument. */
  function many(taskId: string, count: number) {
    const notes = Array.from({ length: count }, (_, i) => ({ pitch: 36 + (i % 48), start: i * 0.125, end: i * 0.125 + 0.1, velocity: 0.8 }));
    return callback(taskId, { state: "complete", instruments: [{ name: "Piano", notes }] });
  }

  it("a 500 KiB callback (many notes) is accepted, and midi.mid holds every note", async () => {
    const taskId = uniqueTaskId("midi");
    let count = 9000;
    while (JSON.stringify(many(taskId, count)).length < 500 * 1024) count += 500;
    const body = many(taskId, count);
    const size = JSON.stringify(body).length;
    expect(size).toBeGreaterThanOrEqual(500 * 1024);
    expect(size).toBeLessThan(1024 * 1024);
    const res = await sendCallback(body, { kind: "midi" });
    expect(res.status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    const { mid } = await expectMidiStored(taskId, body.data);
    expect(mid.tracks[1]!.filter((e) => e.type === "noteOn")).toHaveLength(count);
  });

  it("a 2 MiB callback is 413 and records nothing", async () => {
    const taskId = uniqueTaskId("midi");
    let count = 30_000;
    while (JSON.stringify(many(taskId, count)).length < 2 * 1024 * 1024) count += 5_000;
    const res = await sendCallback(many(taskId, count), { kind: "midi" });
    expect(res.status).toBe(413);
    expect((await jsonOf(res)).error.code).toBe("payload_too_large");
    await expectNothingRecorded("midi", taskId);
  });
});

describe("midi: the provider's failure", () => {
  it("code 500 with data null fails the task and announces midi.failed; nothing is staged", async () => {
    const taskId = uniqueTaskId("midi");
    expect((await sendCallback({ task_id: taskId, code: 500, msg: "MIDI generation failed", data: null }, { kind: "midi" })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ kind: "midi", state: "failed", files: [], error: { code: "500", message: "MIDI generation failed" } });
    await expect.poll(() => announcementsFor(taskId).length, { timeout: 10_000 }).toBe(1);
    expect(announcementsFor(taskId)[0]).toMatchObject({ type: "midi.failed", data: { taskId, state: "failed" } });
    expect(await r2Keys(`midi/${taskId}/`)).toEqual([]);
  });
});

describe("midi: replayed signatures", () => {
  it("the same signature headers with other notes are 409 signature_reused; the replay's staged notes are removed", async () => {
    const taskId = uniqueTaskId("midi");
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(callback(taskId), { kind: "midi", timestamp: ts })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    const other = { state: "complete", instruments: [{ name: "Evil", notes: [{ pitch: 1, start: 0, end: 9, velocity: 1 }] }] };
    const replay = await sendCallback(callback(taskId, other), { kind: "midi", timestamp: ts });
    expect(replay.status).toBe(409);
    expect((await jsonOf(replay)).error.code).toBe("signature_reused");
    await expectMidiStored(taskId, NOTES);
    await noneStaged(taskId);
    expect((await eventsOf(taskId, "callback")).map((e) => e.outcome)).toEqual(["applied", "signature_reused"]);
  });
});
