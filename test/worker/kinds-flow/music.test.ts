// A music generation kept whole: two tracks' MP3 and cover art, through the callback stages.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fileResponse, makeJpeg, makeMp3 } from "../../helpers/files";
import { requestsTo, route } from "../../helpers/fake-net";
import { sha256Hex } from "../../helpers/wav";
import { api, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../../helpers/worker";

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
