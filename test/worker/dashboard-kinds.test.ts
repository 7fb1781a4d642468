// The dashboard for every kind of task (README, "Dashboard"): the task list's kind filter, each
// kind's files shown its own way on the task page — players, images, the video, the MIDI as a
// piano roll, the lyrics as text — and the session-protected file route they load through.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_ROLL_NOTES, pianoRollOf, pitchName } from "../../src/dashboard/midi";
import { fileResponse, HTML_PAGE, makeJpeg, makeMp3, makeMp4, makePng } from "../helpers/files";
import { route } from "../helpers/fake-net";
import { page, signIn, textOf } from "../helpers/dashboard";
import { api, call, jsonOf, sendCallback, uniqueTaskId, waitForState } from "../helpers/worker";

const CDN = "https://cdn.example.com";

/** One element's HTML, from its opening tag with `marker` to its closing tag (not nested in its own kind). */
function element(html: string, tag: string, marker: string): string {
  const start = html.indexOf(marker);
  expect(start, marker).toBeGreaterThanOrEqual(0);
  const open = html.lastIndexOf(`<${tag}`, start);
  const close = html.indexOf(`</${tag}>`, start);
  return html.slice(open, close + tag.length + 3);
}

const stamp = (n: number) => Math.floor(Date.now() / 1000) + n;

/** A music task with two tracks (MP3 and JPEG each), stored; `brokenImage` serves an HTML page for track b's cover. */
async function musicTask(opts: { brokenImage?: boolean } = {}) {
  const taskId = uniqueTaskId("dash-music");
  const tracks = ["trk-a", "trk-b"].map((id, i) => {
    const mp3 = makeMp3(i + 1);
    const jpeg = makeJpeg(i + 1);
    route("GET", `${CDN}/${taskId}/${id}.mp3`, () => fileResponse(mp3, "audio/mpeg"));
    route("GET", `${CDN}/${taskId}/${id}.jpeg`, () => fileResponse(opts.brokenImage && i === 1 ? HTML_PAGE : jpeg, "image/jpeg"));
    return { id, mp3, item: { id, audio_url: `${CDN}/${taskId}/${id}.mp3`, image_url: `${CDN}/${taskId}/${id}.jpeg`, title: `Song ${i}`, duration: 3 } };
  });
  const body = (callbackType: string, data: unknown[]) => ({ code: 200, msg: "ok", data: { callbackType, task_id: taskId, data } });
  expect((await sendCallback(body("text", []), { kind: "music" })).status).toBe(200);
  expect((await sendCallback(body("first", [tracks[0]!.item]), { kind: "music", timestamp: stamp(1) })).status).toBe(200);
  expect((await sendCallback(body("complete", tracks.map((t) => t.item)), { kind: "music", timestamp: stamp(2) })).status).toBe(200);
  await waitForState(taskId, opts.brokenImage ? ["failed"] : ["stored"]);
  return { taskId, tracks };
}

/** The MIDI notes sent: 3 instruments, 7 notes, some times as strings. */
const MIDI_DATA = {
  state: "complete",
  instruments: [
    {
      name: "Drums",
      notes: [
        { pitch: 36, start: "0", end: "0.1", velocity: 1 },
        { pitch: 38, start: 0.5, end: 0.6, velocity: 0.8 },
        { pitch: 42, start: "1.0", end: 1.05, velocity: 0.5 },
      ],
    },
    { name: "Electric Bass (finger)", notes: [{ pitch: 40, start: 0, end: 0.9, velocity: 0.9 }, { pitch: 43, start: 1, end: "1.9", velocity: 0.9 }] },
    { name: "Acoustic Grand <Piano>", notes: [{ pitch: 60, start: 0, end: 2, velocity: 0.6 }, { pitch: 64, start: 0, end: 2, velocity: 0.6 }] },
  ],
};

describe("the task list by kind", () => {
  it("shows each task's kind and filters by it, alone or with a state", async () => {
    const cookie = await signIn();
    const midi = uniqueTaskId("dash-kind-midi");
    const lyrics = uniqueTaskId("dash-kind-lyrics");
    for (const [id, kind] of [
      [midi, "midi"],
      [lyrics, "lyrics"],
    ]) {
      expect((await api(`/api/tasks/${id}`, { method: "PUT", body: JSON.stringify({ kind }) })).status).toBe(201);
    }
    const all = await page("/tasks", cookie);
    expect(all).toMatch(new RegExp(`<tr data-task-id="${midi}" data-state="pending" data-kind="midi">`));
    expect(element(all, "tr", `data-task-id="${lyrics}"`)).toContain('data-kind="lyrics"');
    // Every kind has a filter link; "every kind" is the current one.
    const kinds = [...all.matchAll(/<a href="([^"]+)"[^>]* data-kind="([a-z]+)"/g)].map((m) => [m[2], m[1]!.replace(/&amp;/g, "&")]);
    expect(Object.fromEntries(kinds)).toEqual({
      all: "/tasks",
      wav: "/tasks?kind=wav",
      music: "/tasks?kind=music",
      stems: "/tasks?kind=stems",
      video: "/tasks?kind=video",
      cover: "/tasks?kind=cover",
      midi: "/tasks?kind=midi",
      lyrics: "/tasks?kind=lyrics",
    });

    const onlyMidi = await page("/tasks?kind=midi", cookie);
    const kindsShown = new Set([...onlyMidi.matchAll(/<tr data-task-id="[^"]+" data-state="[a-z]+" data-kind="([a-z]+)"/g)].map((m) => m[1]));
    expect(kindsShown).toEqual(new Set(["midi"]));
    expect(onlyMidi).toContain(`data-task-id="${midi}"`);
    expect(onlyMidi).toMatch(/<a href="\/tasks\?kind=midi" aria-current="page"/);
    // The state filters keep the kind; their counts (of every kind) are left off.
    expect(onlyMidi).toContain('href="/tasks?state=pending&amp;kind=midi"');
    expect(onlyMidi).not.toContain("filter-count");

    const pendingLyrics = await page("/tasks?state=pending&kind=lyrics", cookie);
    expect(pendingLyrics).toContain(`data-task-id="${lyrics}"`);
    expect(pendingLyrics).not.toContain(`data-task-id="${midi}"`);
    expect(textOf(await page("/tasks?state=stored&kind=cover&x=1", cookie))).toMatch(/cover image tasks\.|data-task-id/);
    // An unknown kind is no filter at all (as an unknown state).
    expect(await page("/tasks?kind=nonsense", cookie)).toMatch(/<a href="\/tasks" aria-current="page" data-kind="all"/);
  });
});

describe("a music task's page", () => {
  it("groups the files by track: cover art, a player and each file's size, sha256 and download link", async () => {
    const cookie = await signIn();
    const { taskId, tracks } = await musicTask();
    const task = await jsonOf(await api(`/api/tasks/${taskId}`));
    const html = await page(`/tasks/${taskId}`, cookie);
    expect(html).toContain('data-kind="music"');
    for (const [i, t] of tracks.entries()) {
      const block = element(html, "article", `data-track="${t.id}"`);
      expect(block).toContain(`Track ${i + 1}`);
      expect(block).toMatch(new RegExp(`<img class="art" src="/tasks/${taskId}/files/${t.id}.jpeg" alt="Cover art of track ${i + 1}"`));
      expect(block).toMatch(new RegExp(`<audio controls="" preload="metadata" src="/tasks/${taskId}/files/${t.id}.mp3"`));
      for (const ext of ["mp3", "jpeg"]) {
        const f = task.files.find((x: { name: string }) => x.name === `${t.id}.${ext}`);
        const row = element(block, "li", `class="file" data-file="${t.id}.${ext}"`);
        expect(row).toContain(`href="/tasks/${taskId}/files/${t.id}.${ext}" download="${t.id}.${ext}"`);
        expect(row).toContain(f.sha256);
        expect(textOf(row)).toContain(`(${f.size.toLocaleString("en-US")} bytes)`);
      }
    }
    expect(textOf(html)).toContain("4 of 4 stored");
    expect(textOf(html)).toContain("Kind music generation (music)");
    // No WAV player, no WAV words.
    expect(html).not.toContain("/wav\"");
    expect(textOf(html)).not.toContain("WAV URL");
  });

  it("its history reads in words: the stages, each file stored, all stored", async () => {
    const cookie = await signIn();
    const { taskId, tracks } = await musicTask();
    const text = textOf(await page(`/tasks/${taskId}`, cookie));
    expect(text).toContain("The provider called back: the lyrics are written; no track yet.");
    expect(text).toContain("The provider called back: the first track is ready at cdn.example.com (2 files).");
    expect(text).toContain("The provider called back: every track is ready at cdn.example.com (4 files).");
    expect(text).toContain(`Transfer attempt 1 of ${tracks[0]!.id}.mp3 started, from cdn.example.com.`);
    expect(text).toMatch(new RegExp(`Stored ${tracks[1]!.id}\\.jpeg in R2: [\\d.]+ KiB \\([\\d,]+ bytes\\), SHA-256 [0-9a-f]{64}\\.`));
    expect(text).toMatch(/Stored: all 4 files are in R2, [\d.]+ KiB in all\./);
  });

  it("a file that could not be stored says why in words; the others still play", async () => {
    const cookie = await signIn();
    const { taskId, tracks } = await musicTask({ brokenImage: true });
    const html = await page(`/tasks/${taskId}`, cookie);
    const broken = element(html, "li", `class="file" data-file="${tracks[1]!.id}.jpeg"`);
    expect(broken).toContain('data-state="failed"');
    expect(textOf(broken)).toContain("Failed: what the source sent is not a JPEG image.");
    expect(broken).not.toContain("download=");
    expect(element(html, "article", `data-track="${tracks[1]!.id}"`)).toContain("Cover art not stored yet");
    expect(html).toContain(`src="/tasks/${taskId}/files/${tracks[1]!.id}.mp3"`);
    expect(textOf(html)).toContain(`Failed: ${tracks[1]!.id}.jpeg could not be stored — what the source sent is not a JPEG image.`);
    // The route serves only stored files.
    expect((await call(`/tasks/${taskId}/files/${tracks[1]!.id}.jpeg`, { headers: { cookie } })).status).toBe(404);
  });
});

describe("the file route behind the session", () => {
  it("serves a stored file inline with Range, no-store and its type; HEAD too", async () => {
    const cookie = await signIn();
    const { taskId, tracks } = await musicTask();
    const path = `/tasks/${taskId}/files/${tracks[0]!.id}.mp3`;
    const mp3 = tracks[0]!.mp3;
    const ranged = await call(path, { headers: { cookie, range: "bytes=0-99" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 0-99/${mp3.byteLength}`);
    expect(ranged.headers.get("content-type")).toBe("audio/mpeg");
    expect(ranged.headers.get("content-disposition")).toBe(`inline; filename="${tracks[0]!.id}.mp3"`);
    expect(ranged.headers.get("cache-control")).toBe("no-store");
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(mp3.slice(0, 100));
    const whole = await call(path, { headers: { cookie } });
    expect(whole.status).toBe(200);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(mp3);
    const head = await call(path, { method: "HEAD", headers: { cookie } });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(mp3.byteLength));
    const past = await call(path, { headers: { cookie, range: `bytes=${mp3.byteLength + 10}-` } });
    expect(past.status).toBe(416);
    await past.arrayBuffer();
  });

  it("needs a session, a known task and a stored file of that name — whatever the bucket holds", async () => {
    const cookie = await signIn();
    const { taskId, tracks } = await musicTask();
    const path = `/tasks/${taskId}/files/${tracks[0]!.id}.mp3`;
    const signedOut = await call(path, { redirect: "manual" });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get("location")).toBe("/sign-in");
    for (const p of [`/tasks/${taskId}/files/nothing.mp3`, `/tasks/${uniqueTaskId("nope")}/files/x.mp3`, `/tasks/${taskId}/files/..%2Fwav`]) {
      const res = await call(p, { headers: { cookie } });
      expect(res.status, p).toBe(404);
      await res.arrayBuffer();
    }
    // A registered midi task with nothing stored yet: a leftover object under its key is not served.
    const pending = uniqueTaskId("dash-left");
    await api(`/api/tasks/${pending}`, { method: "PUT", body: JSON.stringify({ kind: "video" }) });
    await env.BUCKET.put(`video/${pending}/video.mp4`, makeMp4(1));
    expect((await call(`/tasks/${pending}/files/video.mp4`, { headers: { cookie } })).status).toBe(404);
    // Only GET and HEAD.
    const post = await call(path, { method: "POST", headers: { cookie } });
    expect(post.status).toBe(405);
  });

  it("the pages keep their strict Content-Security-Policy: media and images from this origin only", async () => {
    const cookie = await signIn();
    const { taskId } = await musicTask();
    const res = await call(`/tasks/${taskId}`, { headers: { cookie } });
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("media-src 'self'");
    expect(csp).toContain("img-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(await res.text()).not.toMatch(/<script>|\son[a-z]+="|\sstyle="/);
  });
});

describe("the other kinds' pages", () => {
  it("stems: a player per stem, named in words", async () => {
    const cookie = await signIn();
    const taskId = uniqueTaskId("dash-stems");
    const stems = ["vocal", "backing_vocals", "drums"];
    const info: Record<string, string> = { origin_url: "", bass_url: "" };
    stems.forEach((s, i) => {
      route("GET", `${CDN}/${taskId}/${s}.mp3`, () => fileResponse(makeMp3(i + 10), "audio/mpeg"));
      info[`${s}_url`] = `${CDN}/${taskId}/${s}.mp3`;
    });
    await sendCallback({ code: 200, msg: "ok", data: { task_id: taskId, vocal_removal_info: info } }, { kind: "stems" });
    await waitForState(taskId, ["stored"]);
    const html = await page(`/tasks/${taskId}`, cookie);
    for (const [s, label] of [
      ["vocal", "Vocal"],
      ["backing_vocals", "Backing vocals"],
      ["drums", "Drums"],
    ]) {
      const block = element(html, "article", `data-stem="${s}.mp3"`);
      expect(block).toContain(`<h3>${label}</h3>`);
      expect(block).toContain(`<audio controls="" preload="metadata" src="/tasks/${taskId}/files/${s}.mp3"`);
    }
  });

  it("video: a <video controls> player", async () => {
    const cookie = await signIn();
    const taskId = uniqueTaskId("dash-video");
    route("GET", `${CDN}/${taskId}.mp4`, () => fileResponse(makeMp4(3), "video/mp4"));
    await sendCallback({ code: 200, msg: "ok", data: { task_id: taskId, video_url: `${CDN}/${taskId}.mp4` } }, { kind: "video" });
    await waitForState(taskId, ["stored"]);
    const html = await page(`/tasks/${taskId}`, cookie);
    expect(html).toContain(`<video controls="" preload="metadata" playsinline="" src="/tasks/${taskId}/files/video.mp4"`);
    expect(html).toContain(`download="video.mp4"`);
  });

  it("cover: each image shown, with its download", async () => {
    const cookie = await signIn();
    const taskId = uniqueTaskId("dash-cover");
    const images = [1, 2].map((i) => {
      route("GET", `${CDN}/${taskId}-${i}.png`, () => fileResponse(makePng(i), "image/png"));
      return `${CDN}/${taskId}-${i}.png`;
    });
    await sendCallback({ code: 200, msg: "success", data: { taskId, images } }, { kind: "cover" });
    await waitForState(taskId, ["stored"]);
    const html = await page(`/tasks/${taskId}`, cookie);
    for (const i of [1, 2]) {
      expect(element(html, "figure", `data-image="cover-${i}.png"`)).toContain(`<img src="/tasks/${taskId}/files/cover-${i}.png" alt="Cover image ${i}"`);
    }
  });

  it("midi: a piano roll with one <rect data-note> per note, a legend of the instruments and the .mid download", async () => {
    const cookie = await signIn();
    const taskId = uniqueTaskId("dash-midi");
    await sendCallback({ task_id: taskId, code: 200, msg: "success", data: MIDI_DATA }, { kind: "midi" });
    await waitForState(taskId, ["stored"]);
    const html = await page(`/tasks/${taskId}`, cookie);
    const svg = element(html, "svg", 'class="piano-roll"');
    const notes = [...svg.matchAll(/<rect [^>]*data-note="(\d+)"/g)].map((m) => Number(m[1]));
    expect(notes).toEqual(MIDI_DATA.instruments.flatMap((i) => i.notes.map((n) => n.pitch)));
    expect(svg).toContain('viewBox="0 0 2 29"'); // 2 s; pitches 36 to 64
    // One colour per instrument, the legend naming them (escaped).
    const fills = [...svg.matchAll(/<g data-instrument="\d" fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(new Set(fills).size).toBe(3);
    const legend = textOf(element(html, "ul", 'class="legend"'));
    expect(legend).toContain("Drums — 3 notes");
    expect(legend).toContain("Electric Bass (finger) — 2 notes");
    expect(legend).toContain("Acoustic Grand <Piano> — 2 notes");
    expect(html).not.toContain("<Piano>");
    expect(html).toContain(`href="/tasks/${taskId}/files/midi.mid" download="midi.mid">Download .mid</a>`);
    expect(html).toContain(`download="midi.json"`);
    expect(svg).toContain(`<title>Drums: ${pitchName(36)} (36), 0.00–0.10 s</title>`);
  });

  it("lyrics: each one's title and text, as text", async () => {
    const cookie = await signIn();
    const taskId = uniqueTaskId("dash-lyrics");
    const data = [
      { text: "[Verse]\nLine one\nLine <two>", title: "First song", status: "complete", errorMessage: "" },
      { text: "", title: "Second", status: "failed", error_message: "flagged for moderation" },
    ];
    await sendCallback({ code: 200, msg: "ok", data: { callbackType: "complete", taskId, data } }, { kind: "lyrics" });
    await waitForState(taskId, ["stored"]);
    const html = await page(`/tasks/${taskId}`, cookie);
    const first = element(html, "article", 'data-lyric="0"');
    expect(first).toContain("<h3>First song</h3>");
    expect(first).toContain('<p class="lyrics-text">[Verse]\nLine one\nLine &lt;two&gt;</p>');
    expect(textOf(element(html, "article", 'data-lyric="1"'))).toContain("The provider could not write these: flagged for moderation");
  });

  it("a task with no file yet says so, in its kind's words", async () => {
    const cookie = await signIn();
    const taskId = uniqueTaskId("dash-none");
    await api(`/api/tasks/${taskId}`, { method: "PUT", body: JSON.stringify({ kind: "music" }) });
    const text = textOf(await page(`/tasks/${taskId}`, cookie));
    expect(text).toContain("None yet: the provider names each track's files as it makes them");
    expect(text).toContain("none yet: the provider has not named any");
    expect(text).toContain("Registered as a music generation task: waiting for the provider's callback");
  });
});

describe("pianoRollOf", () => {
  it("reads numbers and numeric strings, skips notes it cannot place, and names a missing instrument", () => {
    const roll = pianoRollOf({
      instruments: [
        { name: "A", notes: [{ pitch: 60, start: "0.5", end: "1", velocity: 1 }, { pitch: 200, start: 0, end: 1 }, { pitch: 61, start: "x", end: 1 }] },
        { notes: [{ pitch: 50, start: 1, end: 3 }] },
      ],
    })!;
    expect(roll.total).toBe(2);
    expect(roll.instruments.map((i) => [i.name, i.notes.length])).toEqual([
      ["A", 1],
      ["Instrument 2", 1],
    ]);
    expect([roll.low, roll.high, roll.seconds]).toEqual([50, 60, 3]);
    expect(pianoRollOf({ instruments: [] })).toBeNull();
    expect(pianoRollOf("nope")).toBeNull();
  });

  it(`draws at most ${MAX_ROLL_NOTES} notes and says how many there are`, () => {
    const notes = Array.from({ length: MAX_ROLL_NOTES + 5 }, (_, i) => ({ pitch: 60, start: i / 100, end: i / 100 + 0.01 }));
    const roll = pianoRollOf({ instruments: [{ name: "x", notes }] })!;
    expect([roll.total, roll.drawn]).toEqual([MAX_ROLL_NOTES + 5, MAX_ROLL_NOTES]);
  });
});
