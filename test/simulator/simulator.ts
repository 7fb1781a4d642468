// A local stand-in for the Suno API (SPEC.md, "Provider facts" and "Every kind of task"), on
// node:http. Every product the worker keeps has its endpoints here, in the shapes the provider's
// docs show (/work/notes/kinds.md has them side by side):
//
//   POST <generate>                 bearer check; answers a fresh task id and plays the task's
//                                   scenario against the callBackUrl it was given
//   GET  <record-info>?taskId=      the task's state as the provider would report it
//
//   product  generate                        record-info
//   wav      /api/v1/wav/generate            /api/v1/wav/record-info
//   music    /api/v1/generate                /api/v1/generate/record-info
//   stems    /api/v1/vocal-removal/generate  /api/v1/vocal-removal/record-info
//   video    /api/v1/mp4/generate            /api/v1/mp4/record-info
//   cover    /api/v1/suno/cover/generate     /api/v1/suno/cover/record-info
//   midi     /api/v1/midi/generate           /api/v1/midi/record-info
//   lyrics   /api/v1/lyrics                  /api/v1/lyrics/record-info
//
//   GET  /wav/<name>.wav?bytes=|seconds=[&chunked=1]
//                                   a real WAV made on the fly, streamed in blocks, hashed as it
//                                   goes (Content-Length unless chunked=1)
//   GET  /media/<name>.<mp3|jpeg|png|mp4>[?of=<fixture>]
//                                   a real MP3, JPEG, PNG or MP4 (./media.ts), hashed as served
//   GET  /media/<name>.mp3?bytes=<n>
//                                   a generated MP3-like file of n bytes (an ID3 tag, then a
//                                   pattern), streamed, never held whole, with Content-Length
//
//   The WAVs and the generated MP3s carry an ETag and a Last-Modified (stable per name and spec),
//   answer `Range: bytes=<n>-` with a 206 and Content-Range (not chunked ones; an If-Range that
//   does not match gets the whole file, 200), and take two serving options in their query:
//   `bps=<bytes per second>` paces the body, `cutOnce=<offset>` destroys the connection when the
//   file's offset reaches it — the first time that URL is served only, so a resumed request for
//   it goes through. served() records each answer as it goes: status, range start, bytes sent.
//   anything else                   HTTP 404 (under /api/: 200 with code 404, as the provider)
//
// Scenarios, for every product: success (its callbacks: music sends text → first → complete,
// the others one), failure (a failure callback in that product's shape), duplicate (the final
// callback 3 times, two of them at once), late (no callback at all: record-info says PENDING,
// then SUCCESS; the simulator triggers the worker's cron through wrangler dev's /__scheduled
// once the task is overdue). The demo CLI (./main.ts), the e2e tests and the bench all drive
// this module.

import { randomBytes, randomUUID, createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MEDIA, MEDIA_NAME, MEDIA_SECONDS, MEDIA_TYPES, defaultFixture, generatedMp3, isFixture, mediaBytes, type MediaExt } from "./media.ts";
import { callbackHeaders, failureCallback, successCallback } from "./signature.ts";
import { wavChunksFrom, wavLayout, wavQuery, wavSpecFromQuery, type WavSpec } from "./wav.ts";

export const SCENARIOS = ["success", "failure", "duplicate", "late"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** The provider's products, as the worker names its kinds of task. */
export const PRODUCTS = ["wav", "music", "stems", "video", "cover", "midi", "lyrics"] as const;
export type Product = (typeof PRODUCTS)[number];

/** Each product's endpoints at the provider. */
export const PRODUCT_API: Record<Product, { generate: string; recordInfo: string }> = {
  wav: { generate: "/api/v1/wav/generate", recordInfo: "/api/v1/wav/record-info" },
  music: { generate: "/api/v1/generate", recordInfo: "/api/v1/generate/record-info" },
  stems: { generate: "/api/v1/vocal-removal/generate", recordInfo: "/api/v1/vocal-removal/record-info" },
  video: { generate: "/api/v1/mp4/generate", recordInfo: "/api/v1/mp4/record-info" },
  cover: { generate: "/api/v1/suno/cover/generate", recordInfo: "/api/v1/suno/cover/record-info" },
  midi: { generate: "/api/v1/midi/generate", recordInfo: "/api/v1/midi/record-info" },
  lyrics: { generate: "/api/v1/lyrics", recordInfo: "/api/v1/lyrics/record-info" },
};

/** What each generate request must carry (the provider's required fields that matter here). */
const REQUIRED: Record<Product, readonly (keyof GenerateRequest)[]> = {
  wav: ["taskId", "audioId", "callBackUrl"],
  music: ["callBackUrl"],
  stems: ["taskId", "audioId", "callBackUrl"],
  video: ["taskId", "audioId", "callBackUrl"],
  cover: ["taskId", "callBackUrl"],
  midi: ["taskId", "callBackUrl"],
  lyrics: ["prompt", "callBackUrl"],
};

export interface Scenario {
  kind: ScenarioName;
  /** Which product the task is; default wav. */
  product?: Product;
  /** The WAV the task resolves to (wav: success, duplicate, late). */
  wav?: WavSpec;
  /** Time from submission to the (first) callback; default: the simulator's callbackDelayMs. */
  callbackDelayMs?: number;
  /** failure: the callback's code; default 451 (wav), else the code that product's docs show. */
  failureCode?: number;
  failureMsg?: string;
  /** duplicate: how many times the same callback is delivered; default 3. */
  copies?: number;
  /** duplicate: the first two copies go out at once, the rest this far apart; default 1000 ms. */
  duplicateGapMs?: number;
  /** late: record-info answers PENDING at least this many times before SUCCESS; default 0. */
  pendingPolls?: number;
  /** late: and stays PENDING until this long after submission; default 5000 ms. */
  readyAfterMs?: number;
  /**
   * music success: time between the text, first and complete callbacks; default 1500 ms. Under a
   * second, two stages may go out with the same X-Webhook-Timestamp — and so the same signature,
   * which covers only "<task id>.<timestamp>": the worker then refuses the later one as
   * signature_reused (409) until a retry brings a fresh timestamp.
   */
  stageGapMs?: number;
  /** stems: split_stem (default: vocal, drums, bass, guitar) or separate_vocal (vocal, instrumental). */
  stemType?: "split_stem" | "separate_vocal";
}

/** record-info's flag, in the words of the product's docs (numbers for cover and midi are given as words here). */
export type SuccessFlag = string;

export interface CallbackDelivery {
  copy: number;
  attempt: number;
  at: number;
  status: number | null;
  body: string;
  ms: number;
  error?: string;
  /** music: the callback's stage (text, first, complete; error for a failure). */
  stage?: string;
}

/** A file the task yields, as the worker names it in its task (SPEC.md, "Every kind of task"). */
export interface SimFile {
  name: string;
  role: "wav" | "audio" | "image" | "stem" | "video" | "midi" | "lyrics";
  /** The music track it belongs to, else null. */
  track: string | null;
  contentType: string;
  /** Where the provider serves it; null for content the callback carries itself (MIDI, lyrics). */
  url: string | null;
  /** Audio and video: how long it plays (s). */
  seconds?: number;
}

export interface MidiNote {
  pitch: number;
  start: number;
  end: number;
  velocity: number;
}

export interface LyricsItem {
  text: string;
  title: string;
  status: "complete";
  errorMessage: string;
}

export interface MusicTrack {
  id: string;
  title: string;
  tags: string;
  prompt: string;
  audioUrl: string;
  imageUrl: string;
  streamUrl: string;
  duration: number;
}

/** What a task's result is, for the products that are more than one URL. */
export interface SimContent {
  tracks?: MusicTrack[];
  /** stems: stem name (as the callback's `<stem>_url` key) → URL. */
  stems?: Record<string, string>;
  videoUrl?: string;
  images?: string[];
  midi?: { state: "complete"; instruments: { name: string; notes: MidiNote[] }[] };
  lyrics?: LyricsItem[];
}

export interface SimTask {
  taskId: string;
  product: Product;
  /** wav: the music task converted (as given to generate); else the request's taskId, if any. */
  musicTaskId: string;
  audioId: string;
  callBackUrl: string;
  scenario: Scenario;
  createdAt: number;
  /** wav: where the task's WAV is served; null for failures and other products. */
  wavUrl: string | null;
  /** wav: the task's WAV as a file name (served under /wav/<wavName>.wav). */
  wavName: string;
  /** The files the worker should end up with (none for a failure). */
  files: SimFile[];
  content: SimContent;
  /**
   * Content carried inline, as the provider last sent it (callback or record-info): the worker
   * keeps it as JSON (midi.json: this `data` object; lyrics.json: these items).
   */
  inline: { midi?: unknown; lyrics?: unknown };
  /** How far the provider got: nothing yet, music's text/first stages, complete, or failed. */
  stage: "none" | "text" | "first" | "complete" | "failed";
  /** When the provider considers the task finished (null: not yet). */
  completedAt: number | null;
  recordInfoCalls: number;
  pendingAnswers: number;
  successAnswers: number;
  callbacks: CallbackDelivery[];
  cronTriggers: { at: number; status: number | null; ms: number }[];
}

export interface ServedFile {
  name: string;
  /** Path and query as requested. */
  path: string;
  contentType: string;
  chunked: boolean;
  /** Bytes the file has. */
  totalBytes: number;
  /**
   * Bytes written before the end (or the client went away). For the WAVs and generated MP3s it
   * grows while the answer is under way (bytes handed to the kernel), so it can be read live.
   */
  bytesSent: number;
  /** Everything the answer was to carry was sent (for a 206: the rest of the file from rangeStart). */
  complete: boolean;
  /** sha256 (hex) of the bytes sent; of the whole file when complete and rangeStart is 0. Empty until ended. */
  sha256: string;
  startedAt: number;
  ms: number;
  /** HTTP status of the answer: 200, 206 (a range), 416 (a range past the end). */
  status?: number;
  /** The file offset the answer's body starts at (0 unless a Range was honoured). */
  rangeStart?: number;
  /** The request's Range and If-Range headers, as sent. */
  range?: string | null;
  ifRange?: string | null;
  /** The connection was destroyed on purpose (?cutOnce=). */
  cut?: boolean;
  /** The answer is over (sent, cut, or the client went away). Entries appear when an answer begins. */
  ended?: boolean;
}

/** How a WAV or generated MP3 is served (its URL's query: ?bps=, ?cutOnce=). */
export interface ServeOptions {
  /** Pace the body at this many bytes per second. */
  bps?: number;
  /** Destroy the connection when the file's offset reaches this — only the first time the URL is served. */
  cutOnce?: number;
}

/** The query parameters of ServeOptions, to append to a file's URL. */
export function serveQuery(o: ServeOptions | undefined): string {
  const q = new URLSearchParams();
  if (o?.bps !== undefined) q.set("bps", String(o.bps));
  if (o?.cutOnce !== undefined) q.set("cutOnce", String(o.cutOnce));
  return q.toString();
}

function withQuery(url: string, query: string): string {
  return query === "" ? url : `${url}${url.includes("?") ? "&" : "?"}${query}`;
}

function serveOptionsFromQuery(q: URLSearchParams): ServeOptions {
  const o: ServeOptions = {};
  const bps = q.get("bps");
  const cut = q.get("cutOnce");
  if (bps !== null && bps !== "") {
    const n = Number(bps);
    if (!Number.isFinite(n) || n <= 0) throw new RangeError("?bps= must be a positive number of bytes per second");
    o.bps = n;
  }
  if (cut !== null && cut !== "") {
    const n = Number(cut);
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError("?cutOnce= must be a whole number of bytes ≥ 0");
    o.cutOnce = n;
  }
  return o;
}

/** ETag and Last-Modified of a file: the same for the same name and spec, every time. */
function validatorsOf(key: string): { etag: string; lastModified: string } {
  const d = createHash("sha256").update(key).digest();
  const etag = `"${d.subarray(0, 12).toString("hex")}"`;
  const lastModified = new Date(Date.UTC(2025, 0, 1) + (d.readUInt32BE(12) % (365 * 86_400)) * 1000).toUTCString();
  return { etag, lastModified };
}
/** The name it had when only WAVs were served. */
export type ServedWav = ServedFile;

export type SimEvent =
  | { type: "submitted"; at: number; task: SimTask }
  | { type: "callback"; at: number; task: SimTask; delivery: CallbackDelivery }
  | { type: "record-info"; at: number; taskId: string; task: SimTask | null; flag: SuccessFlag; product: Product }
  | { type: "ready"; at: number; task: SimTask }
  | { type: "wav-start"; at: number; name: string; path: string; totalBytes: number; chunked: boolean }
  | { type: "wav-end"; at: number; served: ServedFile }
  | { type: "file-end"; at: number; served: ServedFile }
  /** Just before a ?cutOnce= connection is destroyed (listeners run first, synchronously). */
  | { type: "cut"; at: number; path: string; offset: number; served: ServedFile }
  | { type: "cron-start"; at: number; task: SimTask; run: number }
  | { type: "cron"; at: number; task: SimTask; run: number; status: number | null; ms: number; recordInfoCalls: number; error?: string }
  | { type: "refused"; at: number; path: string; why: string };

export interface Counters {
  generate: number;
  recordInfo: number;
  wav: number;
  wavComplete: number;
  wavBytes: number;
  /** MP3s, images and videos served (/media/). */
  media: number;
  mediaBytes: number;
  callbacksSent: number;
  callbacksOk: number;
  callbacksFailed: number;
  cronTriggers: number;
  unauthorized: number;
  notFound: number;
}

/** A generate request: the fields each product's generate endpoint takes (those that matter here). */
export interface GenerateRequest {
  /** wav, stems, video, midi, cover: the music task it works on. */
  taskId?: string;
  /** wav, stems, video, midi: the track it works on. */
  audioId?: string;
  callBackUrl: string;
  /** music, lyrics: what to write about. */
  prompt?: string;
  /** stems: separate_vocal or split_stem. */
  type?: string;
  /** Which product; default wav (the HTTP endpoints set it). */
  product?: Product;
}

export interface SimulatorOptions {
  /** Default 8788; 0 picks a free port. */
  port?: number;
  host?: string;
  /** The bearer key the worker must send (SUNO_API_KEY); default "dev-suno-key". */
  apiKey?: string;
  /** Signs callbacks with this key (WEBHOOK_HMAC_KEY); null sends them unsigned. Default "dev-webhook-key". */
  hmacKey?: string | null;
  /** Origin put into file URLs; default http://<host>:<port>. */
  publicBase?: string;
  /** The worker's OVERDUE_AFTER_SECONDS: when to trigger its cron for late tasks. Default 15. */
  overdueAfterSeconds?: number;
  /** Default delay from submission to a task's callback; default 500 ms. */
  callbackDelayMs?: number;
  /** A failed delivery (network error or non-2xx) is retried after these delays; default [1000, 5000, 15000]. */
  callbackRetryDelaysMs?: number[];
  /** Trigger the worker's /__scheduled for late tasks (wrangler dev --test-scheduled); default true. */
  triggerCron?: boolean;
  /** After the first trigger, trigger again this often until the late task's result was fetched; default 5000 ms. */
  cronRetryMs?: number;
  /** Which scenario a submission plays; default: the audioId's prefix ("late-7" → late; the prompt's for music and lyrics), else defaultScenario. */
  scenarioFor?: (req: GenerateRequest) => Scenario | ScenarioName;
  defaultScenario?: ScenarioName;
  /** The WAV a scenario gets when it names none; default 2 s of stereo 48 kHz (≈ 375 KiB). */
  defaultWav?: WavSpec;
  /** record-info for a task id the simulator never issued: "pending" (default) or "not_found". */
  unknownTasks?: "pending" | "not_found";
  onEvent?: (e: SimEvent) => void;
}

export interface Simulator {
  readonly url: string;
  readonly port: number;
  readonly counters: Counters;
  readonly tasks: Map<string, SimTask>;
  readonly events: SimEvent[];
  resetCounters(): void;
  on(listener: (e: SimEvent) => void): () => void;
  /** URL of a WAV this simulator serves (`serve`: paced, cut once). */
  wavUrl(name: string, spec?: WavSpec, serve?: ServeOptions): string;
  /** URL of an MP3, JPEG, PNG or MP4 this simulator serves (`of`: which fixture; default one picked by the name). */
  mediaUrl(name: string, ext: MediaExt, of?: string): string;
  /** URL of a generated MP3-like file of exactly `bytes` bytes (/media/<name>.mp3?bytes=<n>). */
  generatedMp3Url(name: string, bytes: number, serve?: ServeOptions): string;
  /** Every time the file at `url` (full URL or path+query) was served, oldest first. */
  served(url: string): ServedFile[];
  /** sha256 of the last complete serving of `url`, if any. */
  servedSha256(url: string): string | undefined;
  /** The next submission with this audioId (or prompt) plays `scenario` (overrides scenarioFor and the prefix rule). */
  plan(audioId: string, scenario: Scenario | ScenarioName): void;
  /** Registers a task as if submitted (no HTTP), and plays its scenario. */
  submit(req: GenerateRequest, scenario?: Scenario | ScenarioName): SimTask;
  /** Delivers one callback the way the provider does (signed, 15 s timeout). */
  deliver(callBackUrl: string, body: object, taskId: string, timestamp?: number): Promise<{ status: number | null; body: string; ms: number; error?: string }>;
  /** The callback body a task's product sends for `stage` (what success sends at that point), for tests. */
  callbackBody(task: SimTask, stage?: "text" | "first" | "complete" | "failed"): object;
  /** Resolves when every task has finished its scenario on the provider's side (callbacks answered, late results fetched). */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const CALLBACK_TIMEOUT_MS = 15_000;

/** The failure code and message each product's docs show. */
const FAILURES: Record<Product, { code: number; msg: string }> = {
  wav: { code: 451, msg: "source audio download failed" },
  music: { code: 501, msg: "Audio generation failed" },
  stems: { code: 500, msg: "Vocal separation failed" },
  video: { code: 500, msg: "Music video generation failed" },
  cover: { code: 501, msg: "Cover generation failed" },
  midi: { code: 500, msg: "MIDI generation failed" },
  lyrics: { code: 400, msg: "Lyrics generation failed" },
};

/** The provider's time format in music records: "2025-01-01 00:00:00". */
function providerTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

function newCounters(): Counters {
  return {
    generate: 0,
    recordInfo: 0,
    wav: 0,
    wavComplete: 0,
    wavBytes: 0,
    media: 0,
    mediaBytes: 0,
    callbacksSent: 0,
    callbacksOk: 0,
    callbacksFailed: 0,
    cronTriggers: 0,
    unauthorized: 0,
    notFound: 0,
  };
}

function pathKey(url: string): string {
  const u = new URL(url, "http://x");
  return u.pathname + u.search;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).byteLength;
    if (n > limit) throw new Error("body too large");
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString("utf8");
}

/** Waits until `res` can take more bytes; false when the client went away first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

/** A small deterministic random source from a task id (same task, same notes). */
function seeded(seed: string): () => number {
  let s = createHash("sha256").update(seed).digest().readUInt32BE(0) || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

/** A few bars of drums, bass and piano, as the provider's MIDI transcription lists them. */
export function midiNotes(seed: string): { name: string; notes: MidiNote[] }[] {
  const rnd = seeded(seed);
  const beat = 0.5; // 120 bpm
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const drums: MidiNote[] = [];
  for (let i = 0; i < 16; i++) {
    const t = i * beat;
    drums.push({ pitch: i % 2 === 0 ? 36 : 38, start: round(t), end: round(t + 0.12), velocity: round(0.7 + rnd() * 0.3) });
    if (i % 4 === 3) drums.push({ pitch: 42, start: round(t + beat / 2), end: round(t + beat / 2 + 0.08), velocity: round(0.5 + rnd() * 0.2) });
  }
  const roots = [40, 45, 43, 38];
  const bass: MidiNote[] = roots.flatMap((root, bar) =>
    [0, 1.5, 2].map((b, k) => ({ pitch: root + (k === 2 ? 7 : 0), start: round(bar * 4 * beat + b * beat), end: round(bar * 4 * beat + (b + 1) * beat - 0.05), velocity: round(0.8 + rnd() * 0.2) })),
  );
  const piano: MidiNote[] = roots.flatMap((root, bar) =>
    [0, 4, 7].map((third) => ({ pitch: root + 24 + third, start: round(bar * 4 * beat), end: round(bar * 4 * beat + 3.5 * beat), velocity: round(0.55 + rnd() * 0.2) })),
  );
  piano.push(...[72, 74, 76, 79].map((p, i) => ({ pitch: p + Math.floor(rnd() * 3), start: round(6 + i * 0.25), end: round(6.2 + i * 0.25), velocity: 0.6 })));
  return [
    { name: "Drums", notes: drums },
    { name: "Electric Bass (finger)", notes: bass },
    { name: "Acoustic Grand Piano", notes: piano },
  ];
}

const LYRICS: LyricsItem[] = [
  {
    title: "Night City Lights",
    text: "[Verse]\nWalking through the city's neon glow\nEvery window tells a story we don't know\n\n[Chorus]\nNight city lights, carry me home\nA thousand voices and I'm not alone",
    status: "complete",
    errorMessage: "",
  },
  {
    title: "Harbour at Dawn",
    text: "[Verse]\nGulls above the quiet water\nRopes and sails in morning light\n\n[Chorus]\nHold on, the tide is turning\nWe sail before the night",
    status: "complete",
    errorMessage: "",
  },
];

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  const apiKey = options.apiKey ?? "dev-suno-key";
  const hmacKey = options.hmacKey === undefined ? "dev-webhook-key" : options.hmacKey;
  const overdueMs = (options.overdueAfterSeconds ?? 15) * 1000;
  const callbackDelayMs = options.callbackDelayMs ?? 500;
  const retryDelays = options.callbackRetryDelaysMs ?? [1000, 5000, 15000];
  const triggerCron = options.triggerCron ?? true;
  const cronRetryMs = options.cronRetryMs ?? 5000;
  const defaultWav = options.defaultWav ?? { seconds: 2 };

  let counters = newCounters();
  const tasks = new Map<string, SimTask>();
  const events: SimEvent[] = [];
  const listeners = new Set<(e: SimEvent) => void>();
  if (options.onEvent) listeners.add(options.onEvent);
  const served = new Map<string, ServedFile[]>();
  /** Paths whose ?cutOnce= has cut a connection already. */
  const cutDone = new Set<string>();
  const planned = new Map<string, Scenario | ScenarioName>();
  const timers = new Set<NodeJS.Timeout>();
  const aborts = new Set<AbortController>();
  /** Provider-side work still under way, per task (callbacks to make, cron to trigger). */
  const busy = new Map<string, number>();
  let stopped = false;
  let base = "";

  const emit = (e: SimEvent) => {
    events.push(e);
    if (events.length > 100_000) events.splice(0, 50_000);
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // a listener's trouble is not the provider's
      }
    }
  };

  const later = (ms: number, fn: () => void | Promise<void>) => {
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) void fn();
    }, ms);
    timers.add(t);
  };

  const hold = (taskId: string) => busy.set(taskId, (busy.get(taskId) ?? 0) + 1);
  const release = (taskId: string) => {
    const n = (busy.get(taskId) ?? 1) - 1;
    if (n <= 0) busy.delete(taskId);
    else busy.set(taskId, n);
  };

  const scenarioOf = (req: GenerateRequest, given?: Scenario | ScenarioName): Scenario => {
    const key = req.audioId ?? req.prompt ?? "";
    const plan = planned.get(key);
    if (plan !== undefined) planned.delete(key);
    const pick = given ?? plan ?? options.scenarioFor?.(req);
    let scenario: Scenario;
    if (pick !== undefined) scenario = typeof pick === "string" ? { kind: pick } : { ...pick };
    else {
      const prefix = SCENARIOS.find((s) => key === s || key.startsWith(`${s}-`) || key.startsWith(`${s}_`));
      scenario = { kind: prefix ?? options.defaultScenario ?? "success" };
    }
    // The endpoint called decides the product; a scenario given in code may name it instead.
    scenario.product = req.product ?? scenario.product ?? "wav";
    return scenario;
  };

  const wavUrlFor = (name: string, spec: WavSpec = defaultWav, serve?: ServeOptions) =>
    withQuery(`${base}/wav/${encodeURIComponent(name)}.wav${wavQuery(spec)}`, serveQuery(serve));
  const generatedMp3UrlFor = (name: string, bytes: number, serve?: ServeOptions) =>
    withQuery(`${base}/media/${encodeURIComponent(name)}.mp3?bytes=${bytes}`, serveQuery(serve));
  const mediaUrlFor = (name: string, ext: MediaExt, of?: string) => `${base}/media/${encodeURIComponent(name)}.${ext}${of ? `?of=${of}` : ""}`;

  async function deliver(callBackUrl: string, body: object, taskId: string, timestamp?: number) {
    const controller = new AbortController();
    aborts.add(controller);
    const timer = setTimeout(() => controller.abort(), CALLBACK_TIMEOUT_MS);
    const started = performance.now();
    counters.callbacksSent++;
    try {
      const res = await fetch(callBackUrl, {
        method: "POST",
        headers: callbackHeaders(hmacKey, taskId, timestamp),
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await res.text();
      if (res.ok) counters.callbacksOk++;
      else counters.callbacksFailed++;
      return { status: res.status, body: text, ms: performance.now() - started };
    } catch (err) {
      counters.callbacksFailed++;
      const why = controller.signal.aborted ? `no answer within ${CALLBACK_TIMEOUT_MS / 1000} s` : String((err as Error).cause ?? err);
      return { status: null, body: "", ms: performance.now() - started, error: why };
    } finally {
      clearTimeout(timer);
      aborts.delete(controller);
    }
  }

  /** One copy of a task's callback, with the provider's retries on failure. */
  function sendCopy(task: SimTask, body: object, copy: number, timestamp: number, stage?: string, attempt = 1): void {
    hold(task.taskId);
    void (async () => {
      try {
        const r = await deliver(task.callBackUrl, body, task.taskId, attempt === 1 ? timestamp : undefined);
        const delivery: CallbackDelivery = { copy, attempt, at: Date.now(), status: r.status, body: r.body, ms: r.ms };
        if (r.error !== undefined) delivery.error = r.error;
        if (stage !== undefined) delivery.stage = stage;
        task.callbacks.push(delivery);
        emit({ type: "callback", at: delivery.at, task, delivery });
        const ok = r.status !== null && r.status >= 200 && r.status < 300;
        const delay = retryDelays[attempt - 1];
        if (!ok && delay !== undefined && !stopped) {
          hold(task.taskId);
          later(delay, () => {
            release(task.taskId);
            sendCopy(task, body, copy, timestamp, stage, attempt + 1);
          });
        }
      } finally {
        release(task.taskId);
      }
    })();
  }

  // ---- what each product says ------------------------------------------------------------

  /** The tracks the provider has made by `stage`: none before first, one at first, all at complete. */
  const tracksAt = (task: SimTask, stage: SimTask["stage"]): MusicTrack[] => {
    const all = task.content.tracks ?? [];
    return stage === "first" ? all.slice(0, 1) : stage === "complete" ? all : [];
  };

  const callbackTrack = (t: MusicTrack) => ({
    id: t.id,
    audio_url: t.audioUrl,
    source_audio_url: t.audioUrl,
    stream_audio_url: t.streamUrl,
    source_stream_audio_url: t.streamUrl,
    image_url: t.imageUrl,
    source_image_url: t.imageUrl,
    prompt: t.prompt,
    model_name: "chirp-v4",
    title: t.title,
    tags: t.tags,
    createTime: "2025-01-01 00:00:00",
    duration: t.duration,
  });

  /** A callback body in the product's documented shape. */
  function callbackBody(task: SimTask, stage: "text" | "first" | "complete" | "failed" = "complete"): object {
    const s = task.scenario;
    const id = task.taskId;
    const c = task.content;
    if (stage === "failed") {
      const code = s.failureCode ?? FAILURES[task.product].code;
      const msg = s.failureMsg ?? FAILURES[task.product].msg;
      switch (task.product) {
        case "wav":
          return failureCallback(id, code, msg);
        case "music":
          return { code, msg, data: { callbackType: "error", task_id: id, data: null } };
        case "stems":
          return { code, msg, data: { task_id: id, vocal_removal_info: null } };
        case "video":
          return { code, msg, data: { task_id: id, video_url: null } };
        case "cover":
          return { code, msg, data: { taskId: id, images: null } };
        case "midi":
          return { task_id: id, code, msg, data: null };
        case "lyrics":
          return { code, msg, data: { callbackType: "error", taskId: id, data: null } };
      }
    }
    switch (task.product) {
      case "wav":
        return successCallback(id, task.wavUrl!);
      case "music": {
        const msg = stage === "text" ? "Text generation completed." : stage === "first" ? "First track generated successfully." : "All generated successfully.";
        return { code: 200, msg, data: { callbackType: stage, task_id: id, data: tracksAt(task, stage).map(callbackTrack) } };
      }
      case "stems": {
        const info: Record<string, string> = { origin_url: "" };
        const keys = s.stemType === "separate_vocal" ? ["instrumental", "vocal"] : ["vocal", "backing_vocals", "drums", "bass", "guitar", "keyboard", "percussion", "strings", "synth", "fx", "brass", "woodwinds"];
        for (const k of keys) info[`${k}_url`] = c.stems?.[k] ?? ""; // an empty URL: that stem is silent
        return { code: 200, msg: "vocal Removal generated successfully.", data: { task_id: id, vocal_removal_info: info } };
      }
      case "video":
        return { code: 200, msg: "MP4 generated successfully.", data: { task_id: id, video_url: c.videoUrl } };
      case "cover":
        return { code: 200, msg: "success", data: { taskId: id, images: c.images } };
      case "midi": {
        // Note times sometimes arrive as strings (the provider's docs say so): every third one here.
        let n = 0;
        const instruments = c.midi!.instruments.map((inst) => ({
          name: inst.name,
          notes: inst.notes.map((note) => (n++ % 3 === 0 ? { ...note, start: String(note.start), end: String(note.end) } : { ...note })),
        }));
        const data = { state: "complete", instruments };
        task.inline.midi = data;
        return { task_id: id, code: 200, msg: "success", data };
      }
      case "lyrics":
        task.inline.lyrics = c.lyrics;
        return { code: 200, msg: "All generated successfully.", data: { callbackType: "complete", taskId: id, data: c.lyrics } };
    }
  }

  /** record-info's `data` about a task, in its product's documented shape. */
  function recordData(product: Product, taskId: string, task: SimTask | null): { flag: string; data: Record<string, unknown> } {
    const stage = task?.stage ?? "none";
    const done = stage === "complete";
    const failed = stage === "failed";
    const errorCode = failed ? (task!.scenario.failureCode ?? FAILURES[product].code) : null;
    const errorMessage = failed ? (task!.scenario.failureMsg ?? FAILURES[product].msg) : null;
    const c = task?.content ?? {};
    const common = { taskId, callbackUrl: task?.callBackUrl ?? null };
    switch (product) {
      case "wav": {
        const flag = done ? "SUCCESS" : failed ? "GENERATE_WAV_FAILED" : "PENDING";
        return {
          flag,
          data: {
            taskId,
            musicId: task?.audioId ?? null,
            callbackUrl: task?.callBackUrl ?? null,
            musicIndex: 0,
            completeTime: task?.completedAt ?? null,
            response: done ? { audioWavUrl: task!.wavUrl } : null,
            successFlag: flag,
            createTime: task?.createdAt ?? Date.now(),
            errorCode,
            errorMessage,
          },
        };
      }
      case "music": {
        const flag = { none: "PENDING", text: "TEXT_SUCCESS", first: "FIRST_SUCCESS", complete: "SUCCESS", failed: "GENERATE_AUDIO_FAILED" }[stage];
        const sunoData = task
          ? tracksAt(task, stage).map((t) => ({
              id: t.id,
              audioUrl: t.audioUrl,
              streamAudioUrl: t.streamUrl,
              imageUrl: t.imageUrl,
              prompt: t.prompt,
              modelName: "chirp-v4",
              title: t.title,
              tags: t.tags,
              createTime: providerTime(task.createdAt),
              duration: t.duration,
            }))
          : [];
        return {
          flag,
          data: {
            taskId,
            parentMusicId: "",
            param: JSON.stringify({ prompt: task?.content.tracks?.[0]?.prompt ?? "", customMode: false, instrumental: false, model: "V4_5" }),
            response: { taskId, sunoData },
            status: flag,
            type: "GENERATE",
            operationType: "generate",
            errorCode,
            errorMessage,
          },
        };
      }
      case "stems": {
        const flag = done ? "SUCCESS" : failed ? "GENERATE_AUDIO_FAILED" : "PENDING";
        const camel = (k: string) => k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
        const response: Record<string, unknown> = { id: null, originUrl: null };
        for (const k of ["instrumental", "vocal", "backing_vocals", "drums", "bass", "guitar", "piano", "keyboard", "percussion", "strings", "synth", "fx", "brass", "woodwinds"]) {
          response[`${camel(k)}Url`] = done ? (c.stems?.[k] ?? null) : null;
        }
        if (done) response.originData = Object.entries(c.stems ?? {}).map(([k, url]) => ({ duration: 3, audio_url: url, stem_type_group_name: k, id: randomUUID() }));
        return {
          flag,
          data: {
            ...common,
            musicId: task?.musicTaskId ?? null,
            musicIndex: 0,
            completeTime: task?.completedAt ?? null,
            response: done ? response : null,
            successFlag: flag,
            createTime: task?.createdAt ?? Date.now(),
            errorCode,
            errorMessage,
          },
        };
      }
      case "video": {
        const flag = done ? "SUCCESS" : failed ? "GENERATE_MP4_FAILED" : "PENDING";
        return {
          flag,
          data: {
            ...common,
            musicId: task?.musicTaskId ?? null,
            audioId: task?.audioId ?? null,
            completeTime: task?.completedAt ?? null,
            response: { videoUrl: done ? c.videoUrl : null },
            successFlag: flag,
            createTime: task?.createdAt ?? Date.now(),
            errorCode,
            errorMessage,
          },
        };
      }
      case "cover": {
        const n = done ? 1 : failed ? 3 : 0;
        const flag = ["PENDING", "SUCCESS", "GENERATING", "GENERATE_COVER_FAILED"][n]!;
        return {
          flag,
          data: {
            ...common,
            parentTaskId: task?.musicTaskId ?? null,
            completeTime: task?.completedAt ? new Date(task.completedAt).toISOString() : null,
            response: { images: done ? c.images : null },
            successFlag: n,
            createTime: new Date(task?.createdAt ?? Date.now()).toISOString(),
            errorCode: done ? 200 : errorCode,
            errorMessage: done ? "" : errorMessage,
          },
        };
      }
      case "midi": {
        const n = done ? 1 : failed ? 3 : 0;
        const flag = ["PENDING", "SUCCESS", "CREATE_TASK_FAILED", "GENERATE_MIDI_FAILED"][n]!;
        const midiData = done ? { state: "complete", instruments: c.midi!.instruments } : null;
        if (done && task && task.inline.midi === undefined) task.inline.midi = midiData;
        return {
          flag,
          data: {
            ...common,
            recordTaskId: -1,
            audioId: task?.audioId ?? null,
            completeTime: task?.completedAt ?? null,
            midiData,
            successFlag: n,
            createTime: task?.createdAt ?? Date.now(),
            errorCode: errorCode === null ? null : String(errorCode),
            errorMessage,
          },
        };
      }
      case "lyrics": {
        const flag = done ? "SUCCESS" : failed ? "GENERATE_LYRICS_FAILED" : "PENDING";
        if (done && task && task.inline.lyrics === undefined) task.inline.lyrics = c.lyrics;
        return {
          flag,
          data: {
            taskId,
            param: JSON.stringify({ prompt: task?.content.lyrics ? "A song about the city at night" : "" }),
            response: { taskId, data: done ? c.lyrics : [] },
            status: flag,
            type: "LYRICS",
            errorCode,
            errorMessage,
          },
        };
      }
    }
  }

  // ---- scenarios ---------------------------------------------------------------------------

  function play(task: SimTask): void {
    const s = task.scenario;
    const delay = s.callbackDelayMs ?? callbackDelayMs;
    const now = () => Math.floor(Date.now() / 1000);
    switch (s.kind) {
      case "success":
      case "failure": {
        if (s.kind === "success" && task.product === "music") {
          // The provider's stages: text (lyrics written), first (one track), complete (all).
          const gap = s.stageGapMs ?? 1500;
          (["text", "first", "complete"] as const).forEach((stage, i) => {
            hold(task.taskId);
            later(delay + i * gap, () => {
              release(task.taskId);
              task.stage = stage;
              if (stage === "complete") task.completedAt = Date.now();
              sendCopy(task, callbackBody(task, stage), 1, now(), stage);
            });
          });
          break;
        }
        hold(task.taskId);
        later(delay, () => {
          release(task.taskId);
          task.completedAt = Date.now();
          task.stage = s.kind === "success" ? "complete" : "failed";
          const stage = s.kind === "success" ? "complete" : "failed";
          sendCopy(task, callbackBody(task, stage), 1, now(), task.product === "music" ? (stage === "failed" ? "error" : stage) : undefined);
        });
        break;
      }
      case "duplicate": {
        const copies = Math.max(1, s.copies ?? 3);
        const gap = s.duplicateGapMs ?? 1000;
        hold(task.taskId);
        later(delay, () => {
          task.completedAt = Date.now();
          task.stage = "complete";
          // "The same callback": one body, one timestamp, one signature, several deliveries.
          const body = callbackBody(task, "complete");
          const ts = now();
          const stage = task.product === "music" ? "complete" : undefined;
          sendCopy(task, body, 1, ts, stage);
          if (copies >= 2) sendCopy(task, body, 2, ts, stage); // concurrently with the first
          for (let c = 3; c <= copies; c++) {
            hold(task.taskId);
            later(gap * (c - 2), () => {
              release(task.taskId);
              sendCopy(task, body, c, ts, stage);
            });
          }
          release(task.taskId);
        });
        break;
      }
      case "late": {
        const readyAfter = s.readyAfterMs ?? 5000;
        hold(task.taskId);
        later(readyAfter, () => {
          release(task.taskId);
          maybeReady(task);
        });
        if (triggerCron) {
          // The worker counts overdue from its own registration, a moment after ours.
          const first = overdueMs + 1500;
          const deadline = Date.now() + first + 60_000 + (s.pendingPolls ?? 0) * 35_000;
          hold(task.taskId);
          const tick = async () => {
            const origin = new URL(task.callBackUrl).origin;
            const started = performance.now();
            const polledBefore = task.recordInfoCalls;
            counters.cronTriggers++;
            const run = task.cronTriggers.length + 1;
            emit({ type: "cron-start", at: Date.now(), task, run });
            let status: number | null = null;
            let error: string | undefined;
            try {
              const res = await fetch(`${origin}/__scheduled?cron=*+*+*+*+*`);
              await res.text();
              status = res.status;
            } catch (err) {
              error = String((err as Error).cause ?? err);
            }
            const ms = performance.now() - started;
            task.cronTriggers.push({ at: Date.now(), status, ms });
            const ev: SimEvent = { type: "cron", at: Date.now(), task, run, status, ms, recordInfoCalls: task.recordInfoCalls - polledBefore };
            if (error !== undefined) ev.error = error;
            emit(ev);
            // Once the worker has been told SUCCESS it has the URLs: the transfers are its own job.
            if (task.successAnswers > 0 || Date.now() > deadline || stopped) release(task.taskId);
            else later(cronRetryMs, tick);
          };
          later(first, tick);
        }
        break;
      }
    }
  }

  /** A late task turns SUCCESS once it is old enough and has said PENDING often enough. */
  function maybeReady(task: SimTask): void {
    const s = task.scenario;
    if (task.completedAt !== null) return;
    if (Date.now() - task.createdAt < (s.readyAfterMs ?? 5000)) return;
    if (task.pendingAnswers < (s.pendingPolls ?? 0)) return;
    task.completedAt = Date.now();
    task.stage = "complete";
    emit({ type: "ready", at: task.completedAt, task });
  }

  /** The task's result: its files' URLs (served by this simulator) and inline content. */
  function contentFor(product: Product, taskId: string, scenario: Scenario, wavUrl: string | null): { content: SimContent; files: SimFile[] } {
    const failure = scenario.kind === "failure";
    const content: SimContent = {};
    const files: SimFile[] = [];
    const mp3 = (name: string, of: string) => ({ url: mediaUrlFor(name, "mp3", of), seconds: MEDIA_SECONDS[of]! });
    switch (product) {
      case "wav":
        if (wavUrl) files.push({ name: `${taskId}.wav`, role: "wav", track: null, contentType: "audio/wav", url: wavUrl });
        break;
      case "music": {
        const titles = ["Night City Lights", "Harbour at Dawn"];
        content.tracks = titles.map((title, i) => {
          const id = randomUUID();
          const audio = mp3(id, MEDIA.mp3[i]!);
          return {
            id,
            title,
            tags: i === 0 ? "synthwave, dreamy" : "folk, acoustic",
            prompt: "[Verse] Night city lights shining bright",
            audioUrl: audio.url,
            imageUrl: mediaUrlFor(id, "jpeg", MEDIA.jpeg[i]!),
            streamUrl: `${base}/stream/${id}`,
            duration: audio.seconds,
          };
        });
        for (const t of content.tracks) {
          files.push({ name: `${t.id}.mp3`, role: "audio", track: t.id, contentType: MEDIA_TYPES.mp3, url: t.audioUrl, seconds: t.duration });
          files.push({ name: `${t.id}.jpeg`, role: "image", track: t.id, contentType: MEDIA_TYPES.jpeg, url: t.imageUrl });
        }
        break;
      }
      case "stems": {
        const names = scenario.stemType === "separate_vocal" ? ["vocal", "instrumental"] : ["vocal", "drums", "bass", "guitar"];
        const label = (k: string) => k.replace(/(^|_)([a-z])/g, (_, sep: string, ch: string) => `${sep}${ch.toUpperCase()}`);
        content.stems = {};
        names.forEach((k, i) => {
          const { url, seconds } = mp3(`${taskId}_${label(k)}`, MEDIA.mp3[i % MEDIA.mp3.length]!);
          content.stems![k] = url;
          files.push({ name: `${k}.mp3`, role: "stem", track: null, contentType: MEDIA_TYPES.mp3, url, seconds });
        });
        break;
      }
      case "video":
        content.videoUrl = mediaUrlFor(`video_${taskId}`, "mp4", "clip");
        files.push({ name: "video.mp4", role: "video", track: null, contentType: MEDIA_TYPES.mp4, url: content.videoUrl, seconds: MEDIA_SECONDS.clip! });
        break;
      case "cover":
        content.images = MEDIA.png.map((of, i) => mediaUrlFor(`${Date.now()}_${taskId}_${i + 1}`, "png", of));
        content.images.forEach((url, i) => files.push({ name: `cover-${i + 1}.png`, role: "image", track: null, contentType: MEDIA_TYPES.png, url }));
        break;
      case "midi":
        content.midi = { state: "complete", instruments: midiNotes(taskId) };
        files.push({ name: "midi.json", role: "midi", track: null, contentType: "application/json", url: null });
        files.push({ name: "midi.mid", role: "midi", track: null, contentType: "audio/midi", url: null });
        break;
      case "lyrics":
        content.lyrics = LYRICS.map((l) => ({ ...l }));
        files.push({ name: "lyrics.json", role: "lyrics", track: null, contentType: "application/json", url: null });
        break;
    }
    return { content, files: failure ? [] : files };
  }

  function submit(req: GenerateRequest, given?: Scenario | ScenarioName): SimTask {
    const scenario = scenarioOf(req, given);
    const product = scenario.product!;
    const taskId = randomBytes(16).toString("hex");
    const wavName = `${scenario.kind}-${taskId}`;
    const wavUrl = product === "wav" && scenario.kind !== "failure" ? wavUrlFor(wavName, scenario.wav ?? defaultWav) : null;
    if (product === "stems" && req.type === "separate_vocal" && scenario.stemType === undefined) scenario.stemType = "separate_vocal";
    const { content, files } = contentFor(product, taskId, scenario, wavUrl);
    const task: SimTask = {
      taskId,
      product,
      musicTaskId: req.taskId ?? "",
      audioId: req.audioId ?? "",
      callBackUrl: req.callBackUrl,
      scenario,
      createdAt: Date.now(),
      wavUrl,
      wavName,
      files,
      content,
      inline: {},
      stage: "none",
      completedAt: null,
      recordInfoCalls: 0,
      pendingAnswers: 0,
      successAnswers: 0,
      callbacks: [],
      cronTriggers: [],
    };
    tasks.set(taskId, task);
    emit({ type: "submitted", at: task.createdAt, task });
    play(task);
    return task;
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  const authorized = (req: IncomingMessage) => req.headers.authorization === `Bearer ${apiKey}`;

  async function handleGenerate(product: Product, req: IncomingMessage, res: ServerResponse) {
    counters.generate++;
    if (!authorized(req)) {
      counters.unauthorized++;
      return sendJson(res, 200, { code: 401, msg: "You do not have access permissions", data: null });
    }
    let body: Partial<GenerateRequest>;
    try {
      body = JSON.parse(await readBody(req)) as Partial<GenerateRequest>;
    } catch {
      return sendJson(res, 200, { code: 400, msg: "the body is not JSON", data: null });
    }
    if (body === null || typeof body !== "object") return sendJson(res, 200, { code: 400, msg: "the body must be a JSON object", data: null });
    const missing = REQUIRED[product].filter((k) => typeof body[k] !== "string" || body[k] === "");
    if (missing.length > 0) return sendJson(res, 200, { code: 400, msg: `missing ${missing.join(", ")}`, data: null });
    try {
      new URL(body.callBackUrl!);
    } catch {
      return sendJson(res, 200, { code: 400, msg: "callBackUrl is not a URL", data: null });
    }
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const request: GenerateRequest = { callBackUrl: body.callBackUrl!, product };
    for (const k of ["taskId", "audioId", "prompt", "type"] as const) {
      const v = str(body[k]);
      if (v !== undefined) request[k] = v;
    }
    const task = submit(request);
    sendJson(res, 200, { code: 200, msg: "success", data: { taskId: task.taskId } });
  }

  function handleRecordInfo(product: Product, url: URL, req: IncomingMessage, res: ServerResponse) {
    counters.recordInfo++;
    if (!authorized(req)) {
      counters.unauthorized++;
      return sendJson(res, 200, { code: 401, msg: "You do not have access permissions", data: null });
    }
    const taskId = url.searchParams.get("taskId") ?? "";
    const known = tasks.get(taskId);
    // Another product's task is not known at this endpoint.
    const task = known && known.product === product ? known : null;
    if (!task && (options.unknownTasks ?? "pending") === "not_found") {
      return sendJson(res, 200, { code: 400, msg: `no task ${taskId}`, data: null });
    }
    if (task) {
      task.recordInfoCalls++;
      if (task.scenario.kind === "late") maybeReady(task);
    }
    const { flag, data } = recordData(product, taskId, task);
    if (task) {
      if (task.stage === "none" || task.stage === "text") task.pendingAnswers++;
      if (task.stage === "complete") task.successAnswers++;
    }
    emit({ type: "record-info", at: Date.now(), taskId, task, flag, product });
    sendJson(res, 200, { code: 200, msg: "success", data });
  }

  function record(path: string, file: ServedFile, type: "wav-end" | "file-end") {
    const list = served.get(path) ?? [];
    list.push(file);
    served.set(path, list);
    emit({ type, at: Date.now(), served: file });
  }

  /** A file made on the fly: its length, its bytes from any offset, what tells it from another. */
  interface FileBody {
    name: string;
    contentType: string;
    total: number;
    chunked: boolean;
    chunksFrom(offset: number): Iterable<Buffer>;
    /** Name and spec: the ETag and Last-Modified come from it. */
    validatorKey: string;
    kind: "wav" | "file";
  }

  /**
   * Serves a made-on-the-fly file: Range (`bytes=<n>-`, not for chunked answers) with If-Range,
   * ETag and Last-Modified, pacing (?bps=) and a one-time cut (?cutOnce=), recorded in served() as
   * it goes.
   */
  async function serveBody(f: FileBody, url: URL, req: IncomingMessage, res: ServerResponse) {
    let serve: ServeOptions;
    try {
      serve = serveOptionsFromQuery(url.searchParams);
    } catch (err) {
      return sendJson(res, 400, { error: String((err as Error).message) });
    }
    const { etag, lastModified } = validatorsOf(f.validatorKey);
    const range = typeof req.headers.range === "string" ? req.headers.range : null;
    const ifRange = typeof req.headers["if-range"] === "string" ? req.headers["if-range"].trim() : null;
    const path = url.pathname + url.search;
    let start = 0;
    let status = 200;
    const m = range !== null && !f.chunked ? /^\s*bytes=(\d+)-\s*$/.exec(range) : null;
    // If-Range: the rest only of the very same file; another validator gets the whole file.
    if (m && (ifRange === null || ifRange === etag || ifRange === lastModified)) {
      const from = Number(m[1]);
      if (from >= f.total) {
        res.writeHead(416, { "content-range": `bytes */${f.total}`, etag, "last-modified": lastModified, "content-length": 0 });
        res.end();
        if (req.method !== "HEAD") {
          const list = served.get(path) ?? [];
          list.push({ name: f.name, path, contentType: f.contentType, chunked: f.chunked, totalBytes: f.total, bytesSent: 0, complete: false, sha256: "", startedAt: Date.now(), ms: 0, status: 416, rangeStart: from, range, ifRange, cut: false, ended: true });
          served.set(path, list);
        }
        return;
      }
      start = from;
      status = 206;
    }
    const headers: Record<string, string | number> = { "content-type": f.contentType, "cache-control": "no-store", etag, "last-modified": lastModified };
    if (!f.chunked) {
      headers["accept-ranges"] = "bytes";
      headers["content-length"] = f.total - start;
    }
    if (status === 206) headers["content-range"] = `bytes ${start}-${f.total - 1}/${f.total}`;
    res.writeHead(status, headers);
    if (req.method === "HEAD") return res.end();

    const wav = f.kind === "wav";
    if (wav) counters.wav++;
    else counters.media++;
    const entry: ServedFile = {
      name: f.name,
      path,
      contentType: f.contentType,
      chunked: f.chunked,
      totalBytes: f.total,
      bytesSent: 0,
      complete: false,
      sha256: "",
      startedAt: Date.now(),
      ms: 0,
      status,
      rangeStart: start,
      range,
      ifRange,
      cut: false,
      ended: false,
    };
    const list = served.get(path) ?? [];
    list.push(entry);
    served.set(path, list);
    const t0 = performance.now();
    if (wav) emit({ type: "wav-start", at: entry.startedAt, name: f.name, path, totalBytes: f.total, chunked: f.chunked });
    const cutAt = serve.cutOnce !== undefined && !cutDone.has(path) && serve.cutOnce >= start && serve.cutOnce < f.total ? serve.cutOnce : null;
    const bps = serve.bps;
    const hash = createHash("sha256");
    let pos = start;
    let lastWrite: Promise<void> = Promise.resolve();
    const write = (piece: Buffer): boolean => {
      hash.update(piece);
      pos += piece.byteLength;
      const n = piece.byteLength;
      let ok = true;
      lastWrite = new Promise<void>((resolve) => {
        ok = res.write(piece, (err) => {
          // Counted once handed to the kernel: what the client can get, even if it is cut next.
          if (!err) {
            entry.bytesSent += n;
            if (wav) counters.wavBytes += n;
            else counters.mediaBytes += n;
          }
          resolve();
        });
      });
      return ok;
    };
    let complete = true;
    outer: for (const chunk of f.chunksFrom(start)) {
      let at = 0;
      while (at < chunk.byteLength) {
        if (res.destroyed) {
          complete = false;
          break outer;
        }
        if (cutAt !== null && pos === cutAt) {
          // Every byte before the cut is out; then the connection goes, mid-body.
          await lastWrite;
          cutDone.add(path);
          entry.cut = true;
          emit({ type: "cut", at: Date.now(), path, offset: pos, served: entry });
          res.destroy();
          complete = false;
          break outer;
        }
        let n = chunk.byteLength - at;
        if (bps !== undefined) n = Math.min(n, 64 * 1024);
        if (cutAt !== null) n = Math.min(n, cutAt - pos);
        if (bps !== undefined) {
          // Never ahead of `bps` since this answer began.
          const wait = t0 + ((pos - start) / bps) * 1000 - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          if (res.destroyed) {
            complete = false;
            break outer;
          }
        }
        const piece = chunk.subarray(at, at + n);
        at += n;
        if (!write(piece) && !(await drained(res))) {
          complete = false;
          break outer;
        }
      }
    }
    if (complete) {
      complete = await new Promise<boolean>((resolve) => {
        res.once("close", () => resolve(res.writableFinished));
        res.end(() => resolve(true));
      });
      if (complete && wav) counters.wavComplete++;
    }
    await Promise.race([lastWrite, new Promise((r) => setTimeout(r, 100))]);
    entry.complete = complete;
    entry.sha256 = hash.digest("hex");
    entry.ms = performance.now() - t0;
    entry.ended = true;
    emit({ type: wav ? "wav-end" : "file-end", at: Date.now(), served: entry });
  }

  async function handleWav(name: string, url: URL, req: IncomingMessage, res: ServerResponse) {
    let spec: WavSpec;
    let layout;
    try {
      spec = wavSpecFromQuery(url.searchParams);
      layout = wavLayout(name, spec);
    } catch (err) {
      return sendJson(res, 400, { error: String((err as Error).message) });
    }
    const chunked = spec.chunked === true;
    const l = layout;
    return serveBody(
      {
        name,
        contentType: "audio/wav",
        total: l.totalBytes,
        chunked,
        chunksFrom: (offset) => wavChunksFrom(l, offset),
        validatorKey: `wav:${name}:${l.totalBytes}:${l.sampleRate}:${l.channels}:${chunked}`,
        kind: "wav",
      },
      url,
      req,
      res,
    );
  }

  async function handleGeneratedMp3(name: string, url: URL, req: IncomingMessage, res: ServerResponse) {
    const bytes = Number(url.searchParams.get("bytes"));
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > 2 ** 36) return sendJson(res, 400, { error: "?bytes= must be a whole number of bytes (at most 64 GiB)" });
    const g = generatedMp3(name, bytes);
    return serveBody(
      { name: `${name}.mp3`, contentType: MEDIA_TYPES.mp3, total: g.total, chunked: false, chunksFrom: (o) => g.chunksFrom(o), validatorKey: `mp3:${name}:${bytes}`, kind: "file" },
      url,
      req,
      res,
    );
  }

  async function handleMedia(name: string, ext: MediaExt, url: URL, req: IncomingMessage, res: ServerResponse) {
    const of = url.searchParams.get("of") ?? defaultFixture(ext, name);
    if (!isFixture(ext, of)) return sendJson(res, 404, { error: `no ${ext} fixture "${of.slice(0, 40)}"; there are ${MEDIA[ext].join(", ")}` });
    const bytes = mediaBytes(ext, name, of);
    res.writeHead(200, { "content-type": MEDIA_TYPES[ext], "content-length": bytes.byteLength, "cache-control": "no-store" });
    if (req.method === "HEAD") return res.end();
    counters.media++;
    const path = url.pathname + url.search;
    const startedAt = Date.now();
    const t0 = performance.now();
    const complete = await new Promise<boolean>((resolve) => {
      res.once("close", () => resolve(res.writableFinished));
      res.end(bytes);
    });
    if (complete) counters.mediaBytes += bytes.byteLength;
    const file: ServedFile = {
      name: `${name}.${ext}`,
      path,
      contentType: MEDIA_TYPES[ext],
      chunked: false,
      totalBytes: bytes.byteLength,
      bytesSent: complete ? bytes.byteLength : 0,
      complete,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      startedAt,
      ms: performance.now() - t0,
      status: 200,
      rangeStart: 0,
      range: null,
      ifRange: null,
      cut: false,
      ended: true,
    };
    record(path, file, "file-end");
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://simulator");
    const route = async () => {
      for (const product of PRODUCTS) {
        const api = PRODUCT_API[product];
        if (req.method === "POST" && url.pathname === api.generate) return handleGenerate(product, req, res);
        if (req.method === "GET" && url.pathname === api.recordInfo) return handleRecordInfo(product, url, req, res);
      }
      const wav = /^\/wav\/([A-Za-z0-9._-]+)\.wav$/.exec(url.pathname);
      if (wav && (req.method === "GET" || req.method === "HEAD")) return handleWav(wav[1]!, url, req, res);
      const media = /^\/media\/(.+)\.(mp3|jpeg|png|mp4)$/.exec(url.pathname);
      if (media && MEDIA_NAME.test(media[1]!) && (req.method === "GET" || req.method === "HEAD")) {
        if (media[2] === "mp3" && url.searchParams.has("bytes")) return handleGeneratedMp3(media[1]!, url, req, res);
        return handleMedia(media[1]!, media[2] as MediaExt, url, req, res);
      }
      if (req.method === "GET" && url.pathname === "/healthz") return sendJson(res, 200, { ok: true });
      counters.notFound++;
      emit({ type: "refused", at: Date.now(), path: url.pathname, why: "no such route" });
      // The API answers in the provider's style (HTTP 200, the status in "code"); the file server
      // answers a file it does not have with a real 404, as a CDN does (the worker retries those).
      if (url.pathname.startsWith("/api/")) return sendJson(res, 200, { code: 404, msg: `no route ${req.method} ${url.pathname}`, data: null });
      return sendJson(res, 404, {
        error: `no file ${url.pathname}; WAVs are served under /wav/<name>.wav?seconds=<s>, other files under /media/<name>.<mp3|jpeg|png|mp4>`,
      });
    };
    route().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { code: 500, msg: String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8788, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  base = (options.publicBase ?? `http://${host}:${port}`).replace(/\/+$/, "");

  return {
    url: `http://${host}:${port}`,
    port,
    get counters() {
      return counters;
    },
    tasks,
    events,
    resetCounters() {
      counters = newCounters();
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    wavUrl: wavUrlFor,
    mediaUrl: mediaUrlFor,
    generatedMp3Url: generatedMp3UrlFor,
    plan: (audioId, scenario) => void planned.set(audioId, scenario),
    served: (url) => served.get(pathKey(url)) ?? [],
    servedSha256(url) {
      // The whole file's: a complete answer that began at byte 0.
      const list = (served.get(pathKey(url)) ?? []).filter((w) => w.complete && !w.rangeStart);
      return list.at(-1)?.sha256;
    },
    submit,
    deliver,
    callbackBody,
    async idle(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (busy.size > 0) {
        if (Date.now() > deadline) throw new Error(`simulator still busy with ${[...busy.keys()].join(", ")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const a of aborts) a.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
