// The provider simulator's own answers, as a person trying things by hand meets them; and the demo
// of every kind of task against the real worker under `wrangler dev`: each task ends stored (or
// failed, when the provider says so), every file with the sha256 of the bytes the simulator served.

import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KIND_SCENARIOS, runDemo, type DemoResult } from "../simulator/demo.ts";
import { MEDIA_TYPES } from "../simulator/media.ts";
import { startSimulator, type Simulator } from "../simulator/simulator.ts";
import { WorkerClient } from "../simulator/worker-client.ts";
import { startYourApp, type YourApp } from "../simulator/your-app.ts";
import { startDevWorker, workerVarsFor, type DevWorker } from "./harness.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: "k", triggerCron: false, callbackDelayMs: 60_000 });
});

afterAll(async () => {
  await sim?.stop();
});

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const auth = { authorization: "Bearer k" };

describe("simulator file server", () => {
  it.each(["/missing.wav", "/files/x.wav", "/wav/no-extension", "/wav/bad name.wav", "/media/x.gif", "/media/x.mp3?of=nothing"])("a file it does not have, %s, is HTTP 404", async (path) => {
    const res = await fetch(`${sim.url}${path}`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).not.toContain("audio/wav");
    await res.text();
  });

  it("a WAV it makes is 200 audio/wav with its length", async () => {
    const res = await fetch(sim.wavUrl("file-server-check", { bytes: 1000 }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBe(1000);
    expect(new TextDecoder().decode(body.slice(0, 4))).toBe("RIFF");
  });

  it.each([
    ["mp3", [0x49, 0x44, 0x33]], // ID3
    ["jpeg", [0xff, 0xd8, 0xff]],
    ["png", [0x89, 0x50, 0x4e, 0x47]],
  ] as const)("a %s it serves is the real thing, its own bytes per name, recorded with its sha256", async (ext, magic) => {
    const a = await fetch(sim.mediaUrl("media-check-a", ext));
    const b = await fetch(sim.mediaUrl("media-check-b", ext));
    expect(a.status).toBe(200);
    expect(a.headers.get("content-type")).toBe(MEDIA_TYPES[ext]);
    const [ba, bb] = [new Uint8Array(await a.arrayBuffer()), new Uint8Array(await b.arrayBuffer())];
    expect([...ba.slice(0, magic.length)]).toEqual([...magic]);
    expect(Number(a.headers.get("content-length"))).toBe(ba.byteLength);
    expect(sha256(ba)).not.toBe(sha256(bb));
    expect(sim.servedSha256(sim.mediaUrl("media-check-a", ext))).toBe(sha256(ba));
  });

  it("an MP4 has its ftyp box at offset 4", async () => {
    const body = new Uint8Array(await (await fetch(sim.mediaUrl("video-check", "mp4"))).arrayBuffer());
    expect(new TextDecoder().decode(body.slice(4, 8))).toBe("ftyp");
  });

  it("an unknown API route answers in the provider's style (HTTP 200, code 404)", async () => {
    const res = await fetch(`${sim.url}/api/v1/nothing`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { code: number }).code).toBe(404);
  });
});

describe("simulator API for every product", () => {
  const generate = async (path: string, body: object) => {
    const res = await fetch(`${sim.url}${path}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
    return (await res.json()) as { code: number; msg: string; data: { taskId: string } | null };
  };
  const record = async (path: string, taskId: string) => ((await (await fetch(`${sim.url}${path}?taskId=${taskId}`, { headers: auth })).json()) as { code: number; data: Record<string, unknown> });

  it.each([
    ["/api/v1/generate", { prompt: "x", callBackUrl: "http://127.0.0.1:1/callbacks/music" }],
    ["/api/v1/vocal-removal/generate", { taskId: "m", audioId: "a", type: "split_stem", callBackUrl: "http://127.0.0.1:1/callbacks/stems" }],
    ["/api/v1/mp4/generate", { taskId: "m", audioId: "a", callBackUrl: "http://127.0.0.1:1/callbacks/video" }],
    ["/api/v1/suno/cover/generate", { taskId: "m", callBackUrl: "http://127.0.0.1:1/callbacks/cover" }],
    ["/api/v1/midi/generate", { taskId: "m", callBackUrl: "http://127.0.0.1:1/callbacks/midi" }],
    ["/api/v1/lyrics", { prompt: "x", callBackUrl: "http://127.0.0.1:1/callbacks/lyrics" }],
  ])("POST %s answers a task id; without callBackUrl, code 400", async (path, body) => {
    const ok = await generate(path, body);
    expect(ok.code).toBe(200);
    expect(ok.data?.taskId).toMatch(/^[0-9a-f]{32}$/);
    const { callBackUrl: _, ...without } = body;
    expect((await generate(path, without)).code).toBe(400);
  });

  it("record-info says PENDING until the task is done, in each product's shape (numbers for cover and midi)", async () => {
    const music = (await generate("/api/v1/generate", { prompt: "x", callBackUrl: "http://127.0.0.1:1/callbacks/music" })).data!.taskId;
    expect((await record("/api/v1/generate/record-info", music)).data).toMatchObject({ taskId: music, status: "PENDING", response: { taskId: music, sunoData: [] } });
    const cover = (await generate("/api/v1/suno/cover/generate", { taskId: "m", callBackUrl: "http://127.0.0.1:1/callbacks/cover" })).data!.taskId;
    expect((await record("/api/v1/suno/cover/record-info", cover)).data).toMatchObject({ successFlag: 0 });
    const midi = (await generate("/api/v1/midi/generate", { taskId: "m", callBackUrl: "http://127.0.0.1:1/callbacks/midi" })).data!.taskId;
    expect((await record("/api/v1/midi/record-info", midi)).data).toMatchObject({ successFlag: 0, midiData: null });
    // Another product's task is not known at this endpoint.
    expect((await record("/api/v1/mp4/record-info", music)).data).toMatchObject({ successFlag: "PENDING", response: { videoUrl: null } });
  });

  it("a late music task's record-info lists every track with its audioUrl and imageUrl once done", async () => {
    const task = sim.submit({ product: "music", callBackUrl: "http://127.0.0.1:1/callbacks/music" }, { kind: "late", readyAfterMs: 0 });
    const data = (await record("/api/v1/generate/record-info", task.taskId)).data as { status: string; response: { sunoData: { id: string; audioUrl: string; imageUrl: string; duration: number }[] } };
    expect(data.status).toBe("SUCCESS");
    expect(data.response.sunoData.map((t) => t.id)).toEqual(task.content.tracks!.map((t) => t.id));
    for (const t of data.response.sunoData) {
      expect(t.audioUrl).toMatch(/\/media\/[0-9a-f-]+\.mp3\?of=tone-[ab]$/);
      expect(t.imageUrl).toMatch(/\/media\/[0-9a-f-]+\.jpeg\?of=art-[ab]$/);
      expect(t.duration).toBeGreaterThan(0);
    }
  });
});

describe("every kind of task through the worker", () => {
  const KEYS = { apiToken: "e2e-kinds-token", hmacKey: "e2e-kinds-hmac", sunoKey: "e2e-kinds-suno" };
  const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const OVERDUE_SECONDS = 2;
  let provider: Simulator;
  let app: YourApp;
  let dev: DevWorker;
  let results: DemoResult[];
  const byLabel = (label: string) => results.find((r) => r.label === label)!;

  beforeAll(async () => {
    provider = await startSimulator({ port: 0, apiKey: KEYS.sunoKey, hmacKey: KEYS.hmacKey, overdueAfterSeconds: OVERDUE_SECONDS, callbackDelayMs: 300, cronRetryMs: 3000 });
    app = await startYourApp({ secret: SECRET, port: 0 });
    dev = await startDevWorker({ vars: workerVarsFor(provider, KEYS, { OVERDUE_AFTER_SECONDS: String(OVERDUE_SECONDS), NOTIFY_URL: app.url, NOTIFY_SECRET: SECRET }) });
    results = await runDemo({
      sim: provider,
      worker: new WorkerClient(dev.url, KEYS.apiToken),
      app,
      expectAnnouncements: true,
      overdueAfterSeconds: OVERDUE_SECONDS,
      scenarios: [
        ...KIND_SCENARIOS.map((s) => (s.kind === "late" ? { ...s, readyAfterMs: 0 } : s)),
        { kind: "failure", product: "cover" },
        { kind: "duplicate", product: "stems", stemType: "separate_vocal" },
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await dev?.stop();
    await app?.stop();
    await provider?.stop();
  });

  it("every task ends as the demo expects", () => {
    expect(results.map((r) => r.label)).toEqual(["music", "stems", "video", "cover", "midi", "lyrics", "music:late", "cover:failure", "stems:duplicate"]);
    expect(results.filter((r) => !r.ok).map((r) => `${r.label} ${r.taskId}: ${r.problems.join("; ")}`)).toEqual([]);
  });

  it.each([
    ["music", ["audio", "image", "audio", "image"]],
    ["stems", ["stem", "stem", "stem", "stem"]],
    ["video", ["video"]],
    ["cover", ["image", "image"]],
    ["midi", ["midi", "midi"]],
    ["lyrics", ["lyrics"]],
    ["music:late", ["audio", "image", "audio", "image"]],
    ["stems:duplicate", ["stem", "stem"]],
  ])("%s: stored, every file with the sha256 of the bytes served and downloaded", (label, roles) => {
    const r = byLabel(label);
    expect(r.task?.state).toBe("stored");
    expect(r.task?.kind).toBe(r.product);
    expect(r.files.map((f) => f.role)).toEqual(roles);
    expect(r.task?.files?.map((f) => f.name).sort()).toEqual(r.files.map((f) => f.name).sort());
    for (const f of r.files) {
      expect(f.state, f.name).toBe("stored");
      expect(f.sha256, f.name).toMatch(/^[0-9a-f]{64}$/);
      expect(f.downloadedSha256, f.name).toBe(f.sha256);
      if (f.fetches > 0) {
        expect(f.servedSha256, f.name).toBe(f.sha256);
        expect(f.fetches, f.name).toBe(1);
      }
    }
  });

  it("music: text → first → complete, each answered 200; the first track's files fetched once though named twice", () => {
    const r = byLabel("music");
    expect(r.callbacks.map((c) => [c.stage, c.status])).toEqual([
      ["text", 200],
      ["first", 200],
      ["complete", 200],
    ]);
    // pending (text) → downloading (first) → [pending, once the first track is in] → downloading (complete) → stored
    expect(r.states[0]).toBe("pending");
    expect(r.states).toContain("downloading");
    expect(r.states.at(-1)).toBe("stored");
    const tracks = [...new Set(r.files.map((f) => f.track))];
    expect(tracks).toHaveLength(2);
    for (const t of tracks) expect(r.files.filter((f) => f.track === t).map((f) => f.name).sort()).toEqual([`${t}.jpeg`, `${t}.mp3`]);
  });

  it("music:late: no callback; registered with its kind, polled through /api/v1/generate/record-info", () => {
    const r = byLabel("music:late");
    expect(r.callbacks).toEqual([]);
    expect(r.recordInfoCalls).toBeGreaterThanOrEqual(1);
    expect(provider.events.some((e) => e.type === "record-info" && e.taskId === r.taskId && e.product === "music" && e.flag === "SUCCESS")).toBe(true);
  });

  it("midi: midi.json is the data as sent and midi.mid has every note; lyrics.json the items as sent", () => {
    const midi = byLabel("midi");
    expect(midi.files.find((f) => f.name === "midi.mid")?.note).toMatch(/^\d+ notes in 3 named tracks, as sent$/);
    expect(midi.files.find((f) => f.name === "midi.json")?.note).toMatch(/as sent/);
    expect(byLabel("lyrics").files[0]?.note).toMatch(/as sent/);
  });

  it("cover:failure: failed with the provider's code, nothing fetched", () => {
    const r = byLabel("cover:failure");
    expect(r.task?.state).toBe("failed");
    expect(r.task?.error?.code).toBe("501");
    expect(r.wavFetches).toBe(0);
  });

  it("each kind is announced as <kind>.stored (or .failed), verified", () => {
    expect(results.map((r) => r.announcements[0]?.payload?.type)).toEqual([
      "music.stored",
      "stems.stored",
      "video.stored",
      "cover.stored",
      "midi.stored",
      "lyrics.stored",
      "music.stored",
      "cover.failed",
      "stems.stored",
    ]);
  });
});
