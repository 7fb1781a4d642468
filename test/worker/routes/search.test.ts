// GET /api/search?q= (README, "Dashboard" → "Find a task"): a task found by its id, by a track id
// (the audioId it was registered with, or a track of a music task) and by the music task id it was
// registered for — through every shard's indexes, kept as tasks are saved.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SearchSchema as SearchAnswer } from "../../../src/openapi/schemas";
import { shardOf } from "../../helpers/durable";
import { fileResponse, makeJpeg, makeMp3 } from "../../helpers/files";
import { route } from "../../helpers/fake-net";
import { api, call, clockTick, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";

const CDN = "https://cdn.example.com";

type Answer = ReturnType<typeof SearchAnswer.parse>;

async function search(q: string, query = ""): Promise<Answer> {
  const res = await api(`/api/search?q=${encodeURIComponent(q)}${query}`);
  expect(res.status, q).toBe(200);
  return SearchAnswer.parse(await jsonOf(res)); // the answer is what its schema says
}

const found = (a: Answer) => a.results.map((r) => [r.task.taskId, r.matched]);

/** A stored music task with these tracks (each an MP3 and its cover). */
async function musicTask(tracks: string[]): Promise<string> {
  const taskId = uniqueTaskId("search-music");
  const items = tracks.map((id, i) => {
    route("GET", `${CDN}/${taskId}/${id}.mp3`, () => fileResponse(makeMp3(i + 1), "audio/mpeg"));
    route("GET", `${CDN}/${taskId}/${id}.jpeg`, () => fileResponse(makeJpeg(i + 1), "image/jpeg"));
    return { id, audio_url: `${CDN}/${taskId}/${id}.mp3`, image_url: `${CDN}/${taskId}/${id}.jpeg`, title: "t", duration: 3 };
  });
  const body = { code: 200, msg: "ok", data: { callbackType: "complete", task_id: taskId, data: items } };
  expect((await sendCallback(body, { kind: "music" })).status).toBe(200);
  await waitForState(taskId, ["stored"]);
  return taskId;
}

async function registerWav(musicTaskId: string, audioId: string): Promise<string> {
  const taskId = uniqueTaskId("search-wav");
  const res = await api(`/api/tasks/${taskId}`, { method: "PUT", body: JSON.stringify({ musicTaskId, audioId }) });
  expect(res.status).toBe(201);
  await clockTick(); // distinct createdAt, for the order
  return taskId;
}

describe("GET /api/search", () => {
  it("finds a task by its id, by the audioId it was registered with, and by its music task id", async () => {
    const musicId = uniqueTaskId("m");
    const audioId = uniqueTaskId("a");
    const wav = await registerWav(musicId, audioId);
    expect(found(await search(wav))).toEqual([[wav, ["taskId"]]]);
    expect(found(await search(audioId))).toEqual([[wav, ["audioId"]]]);
    expect(found(await search(musicId))).toEqual([[wav, ["musicTaskId"]]]);
    expect(found(await search(` ${wav} `))).toEqual([[wav, ["taskId"]]]); // spaces around it are no part of it
    expect(await search(uniqueTaskId("nothing"))).toEqual({ query: expect.any(String), results: [], more: false });
  });

  it("finds a music task by each of its tracks", async () => {
    const [a, b] = [uniqueTaskId("trk"), uniqueTaskId("trk")];
    const music = await musicTask([a, b]);
    for (const track of [a, b]) {
      const r = await search(track);
      expect(found(r)).toEqual([[music, ["track"]]]);
      expect(r.results[0]!.task).toMatchObject({ taskId: music, kind: "music", state: "stored" });
    }
    // The music task's own id finds it too, and the WAV tasks registered for its tracks.
    const wav = await registerWav(music, a);
    expect(found(await search(music))).toEqual([
      [wav, ["musicTaskId"]],
      [music, ["taskId"]],
    ]);
    expect(found(await search(a))).toEqual([
      [wav, ["audioId"]],
      [music, ["track"]],
    ]);
  });

  it("several tasks: newest first, at most `limit`, and `more` says there are others", async () => {
    const musicId = uniqueTaskId("m");
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await registerWav(musicId, uniqueTaskId("a")));
    expect(found(await search(musicId))).toEqual(ids.reverse().map((id) => [id, ["musicTaskId"]]));
    const two = await search(musicId, "&limit=2");
    expect(two.results.map((r) => r.task.taskId)).toEqual(ids.slice(0, 2));
    expect(two.more).toBe(true);
  });

  it("a deleted task is found no more; one registered again is", async () => {
    const musicId = uniqueTaskId("m");
    const wav = await registerWav(musicId, uniqueTaskId("a"));
    expect((await api(`/api/tasks/${wav}`, { method: "DELETE" })).status).toBe(204);
    expect((await search(musicId)).results).toEqual([]);
    expect((await search(wav)).results).toEqual([]);
    expect(
      await runInDurableObject(shardOf(wav), (_i, state) => state.storage.sql.exec("SELECT 1 FROM task_refs WHERE task_id = ?", wav).toArray().length),
    ).toBe(0);
    await api(`/api/tasks/${wav}`, { method: "PUT", body: JSON.stringify({ musicTaskId: musicId, audioId: "x" }) });
    expect(found(await search(musicId))).toEqual([[wav, ["musicTaskId"]]]);
  });

  it("tasks saved before the index existed are indexed when their shard starts", async () => {
    const [track] = [uniqueTaskId("trk")];
    const music = await musicTask([track]);
    const musicId = uniqueTaskId("m");
    const wav = await registerWav(musicId, uniqueTaskId("a"));
    // As a shard of the version before: no refs table.
    for (const id of [music, wav]) {
      await runInDurableObject(shardOf(id), (_i, state) => {
        state.storage.sql.exec("DROP TABLE task_refs");
      });
      await evictDurableObject(shardOf(id));
    }
    expect(found(await search(track))).toEqual([[music, ["track"]]]);
    expect(found(await search(musicId))).toEqual([[wav, ["musicTaskId"]]]);
  });

  it("answers 400 without a query, and needs the bearer token", async () => {
    for (const q of ["", "q=", "q=%20%20", `q=${"x".repeat(257)}`, "q=x&limit=0", "q=x&limit=101"]) {
      const res = await api(`/api/search?${q}`);
      expect(res.status, q).toBe(400);
      expect((await jsonOf(res)).error.code).toBe("invalid_query");
    }
    const res = await call("/api/search?q=x");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});
