// Rules that hold for every kind (SPEC, "Every kind of task"): one kind per task id, DELETE of every
// file, listing by kind, signed links, ranges, and each kind's callback body limit.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { fileResponse, HTML_PAGE, makeJpeg, makeMp3, makeMp4, makePng } from "../../helpers/files";
import { heldRoute, requestsTo, route } from "../../helpers/fake-net";
import { api, call, getTask, jsonOf, ORIGIN, sendCallback, uniqueTaskId, waitForAnnounced, waitForState } from "../../helpers/worker";
import { announcementsFor, bytesOf, CDN, eventsOf, expectNothingRecorded, r2Keys, register } from "./flow";

/** A stored music task of two tracks; returns its files' bytes by name. */
async function storedMusic(): Promise<{ taskId: string; files: Map<string, Uint8Array> }> {
  const taskId = uniqueTaskId("music");
  const files = new Map<string, Uint8Array>();
  const data = ["trk-a", "trk-b"].map((id, i) => {
    const mp3 = makeMp3(70 + i, 8192);
    const jpeg = makeJpeg(70 + i);
    route("GET", `${CDN}/${taskId}/${id}.mp3`, () => fileResponse(mp3, "audio/mpeg"));
    route("GET", `${CDN}/${taskId}/${id}.jpeg`, () => fileResponse(jpeg, "image/jpeg"));
    files.set(`${id}.mp3`, mp3).set(`${id}.jpeg`, jpeg);
    return { id, audio_url: `${CDN}/${taskId}/${id}.mp3`, image_url: `${CDN}/${taskId}/${id}.jpeg`, stream_audio_url: `${CDN}/s/${id}` };
  });
  expect((await sendCallback({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: taskId, data } }, { kind: "music" })).status).toBe(200);
  // Announced too: nothing changes the task after that, so a later read can be compared whole.
  expect((await waitForAnnounced(taskId, ["stored", "failed"])).state).toBe("stored");
  return { taskId, files };
}

const musicBody = (taskId: string, url: string) => ({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: taskId, data: [{ id: "trk-a", audio_url: url, image_url: null }] } });

describe("kind_mismatch: a task id has one kind", () => {
  it("a music callback for a known wav task is 409 kind_mismatch and changes nothing", async () => {
    const taskId = uniqueTaskId("wav");
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    const before = (await getTask(taskId))!;
    expect(before.kind).toBe("wav");
    const historyBefore = (await jsonOf(await api(`/api/tasks/${taskId}/events`))).events;
    const url = `${CDN}/${taskId}/trk-a.mp3`;
    route("GET", url, () => fileResponse(makeMp3(1), "audio/mpeg"));

    const res = await sendCallback(musicBody(taskId, url), { kind: "music" });
    expect(res.status).toBe(409);
    const body = await jsonOf(res);
    expect(body.error.code).toBe("kind_mismatch");
    expect(body.error.message).toContain("/callbacks/wav");

    expect(await getTask(taskId)).toEqual(before);
    expect((await jsonOf(await api(`/api/tasks/${taskId}/events`))).events).toEqual(historyBefore);
    expect(requestsTo(url)).toHaveLength(0);
    expect(await r2Keys(`music/${taskId}/`)).toEqual([]);
  });

  it("a midi callback for a known music task is 409 and its staged notes are removed again", async () => {
    const { taskId } = await storedMusic();
    const before = (await getTask(taskId))!;
    const notes = { state: "complete", instruments: [{ name: "Piano", notes: [{ pitch: 60, start: 0, end: 1, velocity: 1 }] }] };
    const res = await sendCallback({ task_id: taskId, code: 200, msg: "success", data: notes }, { kind: "midi" });
    expect(res.status).toBe(409);
    expect((await jsonOf(res)).error.code).toBe("kind_mismatch");
    expect(await getTask(taskId)).toEqual(before);
    await expect.poll(() => r2Keys(`midi/${taskId}/`), { timeout: 10_000 }).toEqual([]);
  });

  it("PUT with another kind for a known task is 409 kind_mismatch; the same kind is 200", async () => {
    const taskId = uniqueTaskId("stems");
    await register(taskId, "stems");
    const again = await api(`/api/tasks/${taskId}`, { method: "PUT", body: JSON.stringify({ kind: "stems" }) });
    expect(again.status).toBe(200);
    for (const kind of ["music", "wav"]) {
      const res = await api(`/api/tasks/${taskId}`, { method: "PUT", body: JSON.stringify({ kind }) });
      expect(res.status).toBe(409);
      expect((await jsonOf(res)).error.code).toBe("kind_mismatch");
    }
    // Without a body, PUT means a wav task: a mismatch too.
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(409);
    expect((await getTask(taskId))?.kind).toBe("stems");
    const wav = uniqueTaskId("wav");
    await api(`/api/tasks/${wav}`, { method: "PUT" });
    expect((await api(`/api/tasks/${wav}`, { method: "PUT", body: JSON.stringify({ kind: "video" }) })).status).toBe(409);
  });
});

describe("DELETE removes every file of the task", () => {
  it("a music task: 204, then 404 deleted at once on every route, and R2 emptied by the shard's alarm", async () => {
    const { taskId, files } = await storedMusic();
    expect(await r2Keys(`music/${taskId}/`)).toHaveLength(4);
    const link = await jsonOf(await api(`/api/tasks/${taskId}/files/trk-a.mp3/link?ttl=600`));
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);

    const gone = await api(`/api/tasks/${taskId}`);
    expect(gone.status).toBe(404);
    expect((await jsonOf(gone)).error.code).toBe("deleted");
    for (const name of files.keys()) {
      for (const method of ["GET", "HEAD"]) {
        const res = await api(`/api/tasks/${taskId}/files/${name}`, { method });
        expect(res.status, `${method} ${name}`).toBe(404);
      }
      expect((await api(`/api/tasks/${taskId}/files/${name}/link`)).status).toBe(404);
    }
    expect((await jsonOf(await api(`/api/tasks/${taskId}/files/trk-a.mp3`))).error.code).toBe("deleted");
    // A link made before the delete opens nothing either.
    expect((await call(link.url.slice(ORIGIN.length))).status).toBe(404);
    expect((await api(`/api/tasks/${taskId}/events`)).status).toBe(404);
    await expect.poll(() => r2Keys(`music/${taskId}/`), { timeout: 10_000 }).toEqual([]);
    // A late callback for it is answered 200 and ignored.
    expect((await sendCallback(musicBody(taskId, `${CDN}/${taskId}/trk-a.mp3`), { kind: "music" })).status).toBe(200);
    expect((await api(`/api/tasks/${taskId}`)).status).toBe(404);
  });

  it("a midi task: midi.json, midi.mid and any staged notes go", async () => {
    const taskId = uniqueTaskId("midi");
    const notes = { state: "complete", instruments: [{ name: "Piano", notes: [{ pitch: 60, start: 0, end: 1, velocity: 1 }] }] };
    expect((await sendCallback({ task_id: taskId, code: 200, msg: "success", data: notes }, { kind: "midi" })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    expect((await jsonOf(await api(`/api/tasks/${taskId}/files/midi.mid`))).error.code).toBe("deleted");
    await expect.poll(() => r2Keys(`midi/${taskId}/`), { timeout: 10_000 }).toEqual([]);
  });

  it("a stems task deleted while a file is still waiting to be fetched: nothing is left behind", async () => {
    const taskId = uniqueTaskId("stems");
    const vocal = `${CDN}/${taskId}/vocal.mp3`;
    const drums = `${CDN}/${taskId}/drums.mp3`;
    route("GET", vocal, () => fileResponse(makeMp3(3), "audio/mpeg"));
    route("GET", drums, () => new Response("busy", { status: 503 }));
    const res = await sendCallback({ code: 200, msg: "ok", data: { task_id: taskId, vocal_removal_info: { vocal_url: vocal, drums_url: drums, origin_url: "" } } }, { kind: "stems" });
    expect(res.status).toBe(200);
    await expect.poll(async () => (await getTask(taskId))?.files.map((f) => f.state).sort(), { timeout: 10_000 }).toEqual(["stored", "waiting"]);
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe("source_http_error");
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    expect((await jsonOf(await api(`/api/tasks/${taskId}`))).error.code).toBe("deleted");
    await expect.poll(() => r2Keys(`stems/${taskId}/`), { timeout: 10_000 }).toEqual([]);
  });
  it("a cover task deleted while an image is being fetched: the image written afterwards is removed too", async () => {
    const taskId = uniqueTaskId("cover");
    const first = `${CDN}/${taskId}/1.png`;
    const second = `${CDN}/${taskId}/2.png`;
    route("GET", first, () => fileResponse(makePng(1), "image/png"));
    const release = heldRoute(second, () => fileResponse(makePng(2), "image/png"));
    expect((await sendCallback({ code: 200, msg: "success", data: { taskId, images: [first, second] } }, { kind: "cover" })).status).toBe(200);
    await expect.poll(() => requestsTo(second).length, { timeout: 10_000 }).toBe(1);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    expect((await jsonOf(await api(`/api/tasks/${taskId}/files/cover-1.png`))).error.code).toBe("deleted");
    release();
    await expect.poll(() => r2Keys(`cover/${taskId}/`), { timeout: 10_000 }).toEqual([]);
    expect((await api(`/api/tasks/${taskId}`)).status).toBe(404);
  });
});

describe("listing by kind", () => {
  it("?kind=music lists only music tasks", async () => {
    const music = uniqueTaskId("music");
    const stems = uniqueTaskId("stems");
    const wav = uniqueTaskId("wav");
    await register(music, "music");
    await register(stems, "stems");
    expect((await api(`/api/tasks/${wav}`, { method: "PUT" })).status).toBe(201);
    for (const [kind, mine, others] of [["music", music, [stems, wav]], ["stems", stems, [music, wav]], ["wav", wav, [music, stems]]] as const) {
      const res = await api(`/api/tasks?kind=${kind}&limit=100`);
      expect(res.status).toBe(200);
      const { tasks } = await jsonOf(res);
      const ids = (tasks as { taskId: string }[]).map((t) => t.taskId);
      expect(ids).toContain(mine);
      for (const other of others) expect(ids).not.toContain(other);
      expect(new Set((tasks as { kind: string }[]).map((t) => t.kind))).toEqual(new Set([kind]));
    }
    const both = await jsonOf(await api(`/api/tasks?kind=music&state=pending&limit=100`));
    expect((both.tasks as { taskId: string; kind: string; state: string }[]).every((t) => t.kind === "music" && t.state === "pending")).toBe(true);
    const bad = await api(`/api/tasks?kind=podcast`);
    expect(bad.status).toBe(400);
    expect((await jsonOf(bad)).error.code).toBe("invalid_query");
  });
});

describe("file downloads", () => {
  it("files/:name/link?ttl=60 works without the bearer token, and 403 when altered", async () => {
    const { taskId, files } = await storedMusic();
    const res = await api(`/api/tasks/${taskId}/files/trk-b.mp3/link?ttl=60`);
    expect(res.status).toBe(200);
    const link = (await jsonOf(res)) as { url: string; expiresAt: string };
    const expiresIn = Date.parse(link.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(55_000);
    expect(expiresIn).toBeLessThanOrEqual(61_000);
    expect(link.url.startsWith(`${ORIGIN}/api/tasks/${taskId}/files/trk-b.mp3?`)).toBe(true);
    expect(link.url).not.toContain(env.API_TOKEN);

    const path = link.url.slice(ORIGIN.length);
    const ok = await call(path); // no Authorization header
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("audio/mpeg");
    expect(ok.headers.get("content-disposition")).toContain("trk-b.mp3");
    expect(await bytesOf(ok)).toEqual(files.get("trk-b.mp3"));
    expect((await call(path, { method: "HEAD" })).status).toBe(200);

    const url = new URL(link.url);
    const sig = url.searchParams.get("sig")!;
    const altered = [
      // another file of the same task
      path.replace("trk-b.mp3", "trk-a.mp3"),
      // a later expiry
      path.replace(/expires=\d+/, `expires=${Number(url.searchParams.get("expires")) + 3600}`),
      // a changed signature
      path.replace(`sig=${sig}`, `sig=${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`),
    ];
    for (const p of altered) {
      const res = await call(p);
      expect(res.status, p).toBe(403);
      expect((await jsonOf(res)).error.code).toBe("invalid_link");
    }
    // Without the bearer and without a link: 401.
    expect((await call(`/api/tasks/${taskId}/files/trk-b.mp3`)).status).toBe(401);
    // ttl out of range.
    expect((await api(`/api/tasks/${taskId}/files/trk-b.mp3/link?ttl=0`)).status).toBe(400);
    // A file the task does not have.
    const none = await api(`/api/tasks/${taskId}/files/trk-c.mp3/link?ttl=60`);
    expect(none.status).toBe(404);
  });

  it("Range gives 206 with the bytes asked for; If-None-Match gives 304; a Range past the end 416", async () => {
    const { taskId, files } = await storedMusic();
    const mp3 = files.get("trk-a.mp3")!;
    const part = await api(`/api/tasks/${taskId}/files/trk-a.mp3`, { headers: { range: "bytes=100-299" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-299/${mp3.length}`);
    expect(part.headers.get("content-length")).toBe("200");
    expect(part.headers.get("content-type")).toBe("audio/mpeg");
    expect(await bytesOf(part)).toEqual(mp3.subarray(100, 300));

    const tail = await api(`/api/tasks/${taskId}/files/trk-a.mp3`, { headers: { range: "bytes=-10" } });
    expect(tail.status).toBe(206);
    expect(await bytesOf(tail)).toEqual(mp3.subarray(mp3.length - 10));

    const whole = await api(`/api/tasks/${taskId}/files/trk-a.mp3`);
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    const etag = whole.headers.get("etag")!;
    expect(etag).toBeTruthy();
    await whole.arrayBuffer();
    expect((await api(`/api/tasks/${taskId}/files/trk-a.mp3`, { headers: { "if-none-match": etag } })).status).toBe(304);

    const past = await api(`/api/tasks/${taskId}/files/trk-a.mp3`, { headers: { range: `bytes=${mp3.length + 10}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${mp3.length}`);

    // And through a signed link, without the bearer.
    const link = await jsonOf(await api(`/api/tasks/${taskId}/files/trk-b.jpeg/link?ttl=60`));
    const viaLink = await call(link.url.slice(ORIGIN.length), { headers: { range: "bytes=0-3" } });
    expect(viaLink.status).toBe(206);
    expect(await bytesOf(viaLink)).toEqual(files.get("trk-b.jpeg")!.subarray(0, 4));
  });
});

describe("a task failed by one file while a sibling waits to retry", () => {
  it("a wrong file waits for its siblings: they are still fetched, the failure lists them all, and POST /retry fetches only the wrong one", async () => {
    // a.mp3 is certainly wrong; b.mp3's source is busy on the first try.
    const taskId = uniqueTaskId("music");
    const files = new Map([["a.mp3", makeMp3(81)], ["a.jpeg", makeJpeg(81)], ["b.mp3", makeMp3(82)], ["b.jpeg", makeJpeg(82)]]);
    const url = (name: string) => `${CDN}/${taskId}/${name}`;
    route("GET", url("a.mp3"), () => fileResponse(HTML_PAGE, "text/html"));
    route("GET", url("a.jpeg"), () => fileResponse(files.get("a.jpeg")!, "image/jpeg"));
    let busy = true;
    route("GET", url("b.mp3"), () => (busy ? new Response("busy", { status: 503 }) : fileResponse(files.get("b.mp3")!, "audio/mpeg")));
    route("GET", url("b.jpeg"), () => fileResponse(files.get("b.jpeg")!, "image/jpeg"));
    const data = ["a", "b"].map((id) => ({ id, audio_url: url(`${id}.mp3`), image_url: url(`${id}.jpeg`) }));
    route("GET", "https://provider.test/api/v1/generate/record-info", () =>
      Response.json({ code: 200, msg: "success", data: { taskId, status: "SUCCESS", response: { taskId, sunoData: data.map((t) => ({ id: t.id, audioUrl: t.audio_url, imageUrl: t.image_url })) }, errorCode: null, errorMessage: null } }),
    );
    expect((await sendCallback({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: taskId, data } }, { kind: "music" })).status).toBe(200);

    // a.mp3 can never be stored, but b.mp3 waits to retry: the task is still downloading, and says why it will fail.
    await expect.poll(async () => (await getTask(taskId))!.files.find((f) => f.name === "b.mp3")?.error?.code, { timeout: 10_000 }).toBe("source_http_error");
    await expect.poll(async () => (await getTask(taskId))!.files.filter((f) => f.state === "stored").map((f) => f.name).sort(), { timeout: 10_000 }).toEqual(["a.jpeg", "b.jpeg"]);
    const waiting = (await getTask(taskId))!;
    expect(waiting).toMatchObject({ state: "downloading", error: { code: "not_mp3" } });
    expect(waiting.error!.message).toMatch(/^a\.mp3: /);
    expect(waiting.files.find((f) => f.name === "a.mp3")!.state).toBe("failed");

    // b.mp3's next attempt (after its backoff) stores it; then the task fails, naming a.mp3, and its
    // announcement links every file that was kept.
    busy = false;
    const due = Date.parse(waiting.nextAttemptAt!);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(due + 1_000);
    try {
      await runDue(taskId);
    } finally {
      vi.useRealTimers();
    }
    const failed = await waitForState(taskId, ["failed", "stored"]);
    expect(failed).toMatchObject({ state: "failed", error: { code: "not_mp3" } });
    await expect.poll(() => announcementsFor(taskId).map((a) => a.type), { timeout: 10_000 }).toEqual(["music.failed"]);
    const linked = announcementsFor(taskId)[0]!.data.files.filter((f) => typeof f.downloadUrl === "string").map((f) => f.name).sort();
    expect(linked).toEqual(["a.jpeg", "b.jpeg", "b.mp3"]);

    route("GET", url("a.mp3"), () => fileResponse(files.get("a.mp3")!, "audio/mpeg"));
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    for (const [name, bytes] of files) {
      const res = await api(`/api/tasks/${taskId}/files/${name}`);
      expect(await bytesOf(res)).toEqual(bytes);
    }
    expect(requestsTo(url("a.mp3"))).toHaveLength(2);
    expect(requestsTo(url("b.mp3"))).toHaveLength(2);
    expect(requestsTo(url("a.jpeg"))).toHaveLength(1);
    expect(requestsTo(url("b.jpeg"))).toHaveLength(1);
    await expect.poll(() => announcementsFor(taskId).map((a) => a.type), { timeout: 10_000 }).toEqual(["music.failed", "music.stored"]);
    const stored = announcementsFor(taskId)[1]!;
    expect(stored.data.files.every((f) => f.state === "stored" && typeof f.downloadUrl === "string")).toBe(true);
  });
});

describe("callback body limits", () => {
  it("a 200 KiB music callback is 413 and records nothing", async () => {
    const taskId = uniqueTaskId("music");
    const data = Array.from({ length: 1600 }, (_, i) => ({ id: `trk-${i}`, audio_url: `${CDN}/${taskId}/trk-${i}.mp3?pad=${"x".repeat(60)}`, image_url: null }));
    const body = { code: 200, msg: "ok", data: { callbackType: "complete", task_id: taskId, data } };
    expect(JSON.stringify(body).length).toBeGreaterThan(200 * 1024);
    const res = await sendCallback(body, { kind: "music" });
    expect(res.status).toBe(413);
    expect((await jsonOf(res)).error.code).toBe("payload_too_large");
    await expectNothingRecorded("music", taskId);
  });

  it("URL-only kinds take 64 KiB, inline kinds 1 MiB", async () => {
    const pad = "x".repeat(70 * 1024);
    for (const [kind, body] of [
      ["stems", (id: string) => ({ code: 200, msg: pad, data: { task_id: id, vocal_removal_info: { vocal_url: `${CDN}/v.mp3` } } })],
      ["video", (id: string) => ({ code: 200, msg: pad, data: { task_id: id, video_url: `${CDN}/v.mp4` } })],
      ["cover", (id: string) => ({ code: 200, msg: pad, data: { taskId: id, images: [`${CDN}/c.png`] } })],
    ] as const) {
      const taskId = uniqueTaskId(kind);
      const res = await sendCallback(body(taskId), { kind });
      expect(res.status, kind).toBe(413);
      await expectNothingRecorded(kind, taskId);
    }
    // 70 KiB of lyrics is fine; 1.1 MiB is not.
    const ok = uniqueTaskId("lyrics");
    const text = "la ".repeat(24 * 1024);
    expect((await sendCallback({ code: 200, msg: "ok", data: { callbackType: "complete", taskId: ok, data: [{ text, title: "t", status: "complete", errorMessage: "" }] } }, { kind: "lyrics" })).status).toBe(200);
    expect((await waitForState(ok, ["stored", "failed"])).state).toBe("stored");
    const big = uniqueTaskId("lyrics");
    const res = await sendCallback({ code: 200, msg: "ok", data: { callbackType: "complete", taskId: big, data: [{ text: "la ".repeat(380 * 1024), title: "t", status: "complete", errorMessage: "" }] } }, { kind: "lyrics" });
    expect(res.status).toBe(413);
    await expectNothingRecorded("lyrics", big);
  });

  it("a video served right after one rejected as too big: the body limit is per request", async () => {
    // A sanity check that a refused oversized callback leaves the route working for the next one.
    const taskId = uniqueTaskId("video");
    const url = `${CDN}/${taskId}.mp4`;
    const mp4 = makeMp4(9);
    route("GET", url, () => fileResponse(mp4, "video/mp4"));
    expect((await sendCallback({ code: 200, msg: "x".repeat(80 * 1024), data: { task_id: taskId, video_url: url } }, { kind: "video" })).status).toBe(413);
    expect((await sendCallback({ code: 200, msg: "ok", data: { task_id: taskId, video_url: url } }, { kind: "video" })).status).toBe(200);
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
    expect((await eventsOf(taskId, "callback")).map((e) => e.outcome)).toEqual(["applied"]);
  });
});
