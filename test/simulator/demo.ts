// The demo flow: one task per scenario, followed to the end and checked. WAV conversions are
// submitted through the worker (POST /api/tasks, so the worker calls the simulator's generate
// endpoint with its own callBackUrl); every other product is asked of the provider directly, as
// your app would, with the worker's /callbacks/<kind> as its callBackUrl (and a task whose
// callback never comes is registered with PUT /api/tasks/:id {"kind"} so the cron polls it).
// Checked: the final state; every file the task should have, stored, with sha256 in the task =
// sha256 of what the simulator served = sha256 of the download (content the callback carried —
// MIDI notes, lyrics — read back and compared, midi.mid parsed back note by note); each file
// fetched once; callbacks answered. With "your app" (./your-app.ts) and expectAnnouncements, also
// that every task that ended was announced to it, signed (verified with the standardwebhooks
// package) and with download links that work without the bearer.
// Used by the CLI (./main.ts) and by the e2e tests.

import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { parseMidi } from "midi-file";
import { PRODUCT_API, type CallbackDelivery, type Product, type Scenario, type ScenarioName, type SimEvent, type SimFile, type Simulator, type SimTask } from "./simulator.ts";
import { WorkerClient, type TaskJson } from "./worker-client.ts";
import type { Received, YourApp } from "./your-app.ts";

export interface DemoOptions {
  sim: Simulator;
  worker: WorkerClient;
  /** One task per entry; default DEFAULT_SCENARIOS (every product). */
  scenarios?: Scenario[];
  /** The worker's OVERDUE_AFTER_SECONDS (how long a late task takes at least). */
  overdueAfterSeconds: number;
  /** The worker's CALLBACK_TOKEN, when it wants one on callback URLs (as ?token=). */
  callbackToken?: string;
  /** Download each stored file and hash it; default true. */
  download?: boolean;
  /** Where the journey is printed, line by line; default nowhere. */
  log?: (line: string) => void;
  /** "Your app": announcements it receives are printed in the journey. */
  app?: YourApp;
  /**
   * Require a verified announcement for every task that ends stored or failed (needs `app`, and
   * the worker's NOTIFY_URL pointing at it). Default off: a worker without NOTIFY_URL announces
   * nothing.
   */
  expectAnnouncements?: boolean;
  /** How long after a task ended its announcement may take to arrive; default 30 s. */
  announcementTimeoutMs?: number;
}

/** One file of a task, as checked. */
export interface FileCheck {
  name: string;
  role: string;
  track: string | null;
  /** In the worker's task: waiting, stored or failed (null: the task does not have it). */
  state: string | null;
  size: number | null;
  /** The sha256 the worker's task has. */
  sha256: string | null;
  /** A URL file: the sha256 of the bytes the simulator served. Inline content: of the JSON as sent. */
  servedSha256: string | null;
  /** Of the bytes GET /api/tasks/:id/files/:name gave. */
  downloadedSha256: string | null;
  /** How often the worker fetched it from the simulator (inline content: 0). */
  fetches: number;
  /** What else was checked, in words (midi.mid's notes, a JSON file's content). */
  note: string | null;
  ok: boolean;
}

export interface DemoResult {
  scenario: ScenarioName;
  /** The provider's product, as the worker's kind. */
  product: Product;
  /** How the journey names it: success, failure, duplicate, late (WAVs); music, stems, …, music:late. */
  label: string;
  taskId: string;
  musicTaskId: string;
  expected: string;
  ok: boolean;
  problems: string[];
  task: TaskJson | null;
  /** The task's states in order, from its own history (GET /api/tasks/:id/events). */
  states: string[];
  /** wav: the WAV's served, downloaded sha256 and download URLs (null for other products). */
  servedSha256: string | null;
  downloadedSha256: string | null;
  downloadUrl: string | null;
  signedLink: string | null;
  /** Every file the task should have, checked. */
  files: FileCheck[];
  callbacks: CallbackDelivery[];
  /** How often the worker fetched the task's files from the simulator (wav: the WAV). */
  wavFetches: number;
  recordInfoCalls: number;
  recordInfoPending: number;
  cronTriggers: number;
  seconds: number;
  /** Verified announcements about this task that your app received, in order. */
  announcements: Received[];
  /** sha256 of the WAV fetched through the announcement's downloadUrl (no bearer). */
  announcedDownloadSha256: string | null;
}

/** The WAV scenarios, as the demo first had them. */
export const WAV_SCENARIOS: Scenario[] = [{ kind: "success" }, { kind: "failure" }, { kind: "duplicate" }, { kind: "late" }];

/** Every other product once, and a music task whose callback never comes. */
export const KIND_SCENARIOS: Scenario[] = [
  { kind: "success", product: "music" },
  { kind: "success", product: "stems" },
  { kind: "success", product: "video" },
  { kind: "success", product: "cover" },
  { kind: "success", product: "midi" },
  { kind: "success", product: "lyrics" },
  { kind: "late", product: "music" },
];

export const DEFAULT_SCENARIOS: Scenario[] = [...WAV_SCENARIOS, ...KIND_SCENARIOS];

/** How a scenario is named in the journey and on the command line: `late`, `music`, `music:late`. */
export function scenarioLabel(s: Scenario): string {
  const product = s.product ?? "wav";
  if (product === "wav") return s.kind;
  return s.kind === "success" ? product : `${product}:${s.kind}`;
}

const WAV_EXPECTED: Record<ScenarioName, string> = {
  success: "stored, sha256 matches",
  failure: "failed with the provider's code",
  duplicate: "stored once, every copy answered 200",
  late: "stored through the cron, no callback",
};

const STORED: Record<Exclude<Product, "wav">, string> = {
  music: "text → first → complete; both tracks' MP3 and cover stored, each fetched once",
  stems: "one MP3 per stem stored",
  video: "video.mp4 stored",
  cover: "cover-1.png and cover-2.png stored",
  midi: "midi.json as sent and midi.mid with every note",
  lyrics: "lyrics.json as sent",
};

function expectedOf(s: Scenario): string {
  const product = s.product ?? "wav";
  if (product === "wav") return WAV_EXPECTED[s.kind];
  switch (s.kind) {
    case "success":
      return STORED[product];
    case "failure":
      return "failed with the provider's code, nothing fetched";
    case "duplicate":
      return "stored once, every copy answered 200";
    case "late":
      return "no callback: the cron polls record-info, every file stored";
  }
}

const short = (s: string | null | undefined, n = 12) => (s ? (s.length > n ? `${s.slice(0, n)}…` : s) : "-");
const bytes = (n: number) => n.toLocaleString("en-US");
const sha256 = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");

/**
 * How long a journey line is held back before it is printed. The worker's state changes are read
 * from its history a poll later (their times are the worker's own), so lines are kept this long
 * and printed in time order.
 */
const HOLD_MS = 2000;

type HistoryEntry = { at: string; type: string; [k: string]: unknown };

/**
 * The states a task went through, with when, read from its history: registered → pending, a
 * callback that brought files or a transfer attempt → downloading, stored, failed; a music task
 * whose first track is stored before the provider said complete is pending again. Polling
 * GET /api/tasks/:id could miss a state that lasted less than a poll; the history does not.
 */
export function statesFromHistory(events: readonly HistoryEntry[]): { state: string; at: number }[] {
  return journeyFromHistory(events).flatMap((j) => (j.state ? [{ state: j.state, at: j.at }] : []));
}

/** The history as journey entries: each change of state, and each file of several stored. */
export function journeyFromHistory(events: readonly HistoryEntry[]): { at: number; state?: string; text?: string }[] {
  const out: { at: number; state?: string; text?: string }[] = [];
  let state: string | null = null;
  let stage: string | null = null;
  const running = new Set<string>();
  const push = (next: string, at: string) => {
    if (state !== next) out.push({ state: next, at: Date.parse(at) });
    state = next;
  };
  for (const e of events) {
    const file = typeof e.file === "string" ? e.file : null;
    if (e.type === "registered") push("pending", e.at);
    else if (e.type === "callback" && e.outcome === "applied") {
      stage = typeof e.stage === "string" ? e.stage : null;
      // A text-stage callback carries no file: the task stays pending.
      if (e.code !== 200) push("failed", e.at);
      else if (stage === "text") push("pending", e.at);
      else push("downloading", e.at);
    } else if (e.type === "transfer_started") {
      if (file) running.add(file);
      push("downloading", e.at);
    } else if (e.type === "transfer_failed") {
      if (file) running.delete(file);
    } else if (e.type === "file_stored") {
      if (file) running.delete(file);
      const size = typeof e.size === "number" ? `${bytes(e.size)} B` : "";
      out.push({ at: Date.parse(e.at), text: `worker: stored ${file ?? "a file"}${size ? ` (${size}, sha256 ${short(String(e.sha256 ?? ""), 16)})` : ""}` });
      // The first track is in; the rest waits for the provider's complete.
      if (running.size === 0 && stage === "first") push("pending", e.at);
    } else if (e.type === "stored" || e.type === "failed") push(e.type, e.at);
  }
  return out;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult[]> {
  const { sim, worker, app } = opts;
  if (opts.expectAnnouncements && !app) throw new Error("expectAnnouncements needs `app` (your app's receiver)");
  const log = opts.log ?? (() => {});
  const scenarios = opts.scenarios ?? DEFAULT_SCENARIOS;
  const t0 = Date.now();
  const stamp = t0.toString(36);
  const byId = new Map<string, { label: string }>();
  /** Every URL the worker should fetch, by path+query: its task and file. */
  const byPath = new Map<string, { task: SimTask; file: SimFile }>();
  const quietRuns = new Map<string, number>();
  const width = Math.max(9, ...scenarios.map((s) => scenarioLabel(s).length));

  // Journey lines wait HOLD_MS in a queue and come out in time order (see HOLD_MS).
  const queue: { at: number; seq: number; text: string }[] = [];
  let seq = 0;
  const line = (at: number, label: string, taskId: string, text: string) => {
    const stampAt = `+${(Math.max(0, at - t0) / 1000).toFixed(1).padStart(5)}s`;
    queue.push({ at, seq: seq++, text: `${stampAt}  ${label.padEnd(width)} ${short(taskId)}  ${text}` });
  };
  const flush = (all: boolean) => {
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const cutoff = all ? Infinity : Date.now() - HOLD_MS;
    while (queue.length > 0 && queue[0]!.at <= cutoff) log(queue.shift()!.text);
  };
  const flusher = setInterval(() => flush(false), 200);
  const labelOf = (taskId: string) => byId.get(taskId)?.label ?? "?";

  const unsubscribe = sim.on((e: SimEvent) => {
    switch (e.type) {
      case "callback": {
        if (!byId.has(e.task.taskId)) return;
        const d = e.delivery;
        const what = d.status === null ? `failed (${d.error})` : `HTTP ${d.status} ${d.body.slice(0, 60)}`;
        const stage = d.stage ? ` ${d.stage}` : "";
        const route = e.task.product === "wav" ? "" : ` (/callbacks/${e.task.product})`;
        // At the time it was sent: the worker records it before it answers.
        line(d.at - d.ms, labelOf(e.task.taskId), e.task.taskId, `provider → worker callback${stage}${route} copy ${d.copy}${d.attempt > 1 ? ` retry ${d.attempt}` : ""}: ${what} (${d.ms.toFixed(0)} ms)`);
        return;
      }
      case "record-info":
        if (e.task && byId.has(e.taskId)) line(e.at, labelOf(e.taskId), e.taskId, `worker polled ${PRODUCT_API[e.product].recordInfo} → ${e.flag}`);
        return;
      case "ready":
        if (byId.has(e.task.taskId)) {
          const what = e.task.product === "wav" ? "conversion finished" : "task finished";
          line(e.at, labelOf(e.task.taskId), e.task.taskId, `provider: ${what} (record-info now says SUCCESS; no callback will come)`);
        }
        return;
      case "cron-start":
        if (byId.has(e.task.taskId) && e.run === 1) {
          const what = e.task.product === "wav" ? "the WAV URL" : "the task's result";
          line(e.at, labelOf(e.task.taskId), e.task.taskId, `overdue: the simulator runs the worker's cron (GET /__scheduled) now, then every few seconds until the worker has ${what}`);
        }
        return;
      case "cron": {
        if (!byId.has(e.task.taskId)) return;
        const quiet = quietRuns.get(e.task.taskId) ?? 0;
        if (e.recordInfoCalls === 0 && e.status === 200 && e.run > 1) {
          quietRuns.set(e.task.taskId, quiet + 1);
          return;
        }
        const skipped = quiet > 0 ? ` (after ${quiet} run${quiet > 1 ? "s" : ""} that left it alone: a task is polled at most once per 30 s)` : "";
        quietRuns.set(e.task.taskId, 0);
        line(e.at, labelOf(e.task.taskId), e.task.taskId, `cron run ${e.run}: ${e.status ?? e.error} in ${e.ms.toFixed(0)} ms, ${e.recordInfoCalls} record-info call(s) for this task${skipped}`);
        return;
      }
      case "wav-end":
      case "file-end": {
        const hit = byPath.get(e.served.path);
        if (!hit) return;
        const s = e.served;
        const what = hit.task.product === "wav" ? `the WAV${s.chunked ? " (chunked)" : ""}` : hit.file.name;
        line(e.at, labelOf(hit.task.taskId), hit.task.taskId, `worker fetched ${what}: ${bytes(s.bytesSent)} B${s.complete ? "" : " (incomplete)"}, sha256 ${short(s.sha256, 16)}`);
        return;
      }
      default:
        return;
    }
  });

  const unsubscribeApp = app?.on((r) => {
    // Unverified bodies are parsed only to say which task they claimed to be about.
    const taskId = r.payload?.data.taskId ?? claimedTaskId(r.body);
    const task = taskId === null ? undefined : byId.get(taskId);
    if (!task || taskId === null) return;
    const again = r.copy > 1 ? ` again (copy ${r.copy} of ${short(r.id, 16)})` : ` (${short(r.id, 16)})`;
    if (r.verified) line(r.at, task.label, taskId, `worker → your app: announced ${r.payload!.type} (signature verified)${again} → your app answered ${r.status}`);
    else line(r.at, task.label, taskId, `worker → your app: announcement REFUSED, signature not verified (${r.error}) → 401`);
  });

  try {
    type Started = { scenario: Scenario; product: Product; label: string; simTask: SimTask; musicTaskId: string; states: string[]; printed: number };
    const started: Started[] = [];
    // The worker's own record of each change, with its time; printed once per entry.
    const syncStates = async (st: Started) => {
      let journey: ReturnType<typeof journeyFromHistory>;
      try {
        journey = journeyFromHistory(await worker.events(st.simTask.taskId));
      } catch {
        return; // the next change or the end tries again
      }
      if (journey.length === 0) return;
      let previous: string | undefined;
      st.states = [];
      for (const [i, j] of journey.entries()) {
        if (j.state) {
          if (i >= st.printed) line(j.at, st.label, st.simTask.taskId, `worker: ${previous ?? "new"} → ${j.state}`);
          previous = j.state;
          st.states.push(j.state);
        } else if (i >= st.printed && j.text) line(j.at, st.label, st.simTask.taskId, j.text);
      }
      st.printed = journey.length;
    };
    // Follow every task to its final state, from the moment it is submitted.
    const deadlineMs = (s: Scenario) => (s.kind === "late" ? opts.overdueAfterSeconds * 1000 + 45_000 + (s.pendingPolls ?? 0) * 40_000 : 30_000);
    const follow = async (st: Started): Promise<TaskJson | null> => {
      let syncing: Promise<void> = Promise.resolve();
      try {
        return await worker.waitFor(st.simTask.taskId, ["stored", "failed"], {
          timeoutMs: deadlineMs(st.scenario),
          intervalMs: 250,
          onChange: () => {
            syncing = syncing.then(() => syncStates(st));
          },
        });
      } catch (err) {
        line(Date.now(), st.label, st.simTask.taskId, `worker: gave up waiting (${(err as Error).message})`);
        return worker.get(st.simTask.taskId);
      } finally {
        await syncing;
        await syncStates(st);
      }
    };
    const following: Promise<TaskJson | null>[] = [];

    for (const [i, scenario] of scenarios.entries()) {
      const product = scenario.product ?? "wav";
      const label = scenarioLabel(scenario);
      const musicTaskId = `music-${stamp}-${i}`;
      const audioId = `${scenario.kind}-${stamp}-${i}`;
      let simTask: SimTask;
      let printed = 1;
      let states: string[] = ["pending"];
      if (product === "wav") {
        sim.plan(audioId, scenario);
        const task = await worker.submit(musicTaskId, audioId);
        const found = sim.tasks.get(task.taskId);
        if (!found) throw new Error(`the worker registered ${task.taskId}, which the simulator never issued`);
        simTask = found;
        byId.set(task.taskId, { label });
        line(Date.now(), label, task.taskId, `submitted: POST /api/tasks → 202 ${task.state} (provider issued WAV task ${task.taskId})`);
        states = [task.state];
      } else {
        // Your app asks the provider itself, naming the worker as the callBackUrl.
        const callBackUrl = new URL(`${worker.baseUrl}/callbacks/${product}`);
        if (opts.callbackToken) callBackUrl.searchParams.set("token", opts.callbackToken);
        const request = { product, callBackUrl: callBackUrl.toString(), taskId: musicTaskId, audioId, prompt: `${scenario.kind} demo` };
        simTask = sim.submit(request, { ...scenario, product });
        byId.set(simTask.taskId, { label });
        line(Date.now(), label, simTask.taskId, `submitted: your app → provider POST ${PRODUCT_API[product].generate} (callBackUrl …/callbacks/${product}) → task ${simTask.taskId}`);
        printed = 0;
        states = [];
        if (scenario.kind === "late") {
          // No callback will come: the worker learns of the task from your app, and polls it.
          const reg = await worker.register(simTask.taskId, { kind: product });
          line(Date.now(), label, simTask.taskId, `registered: PUT /api/tasks/${short(simTask.taskId)} {"kind":"${product}"} → ${reg.status} ${reg.task.state} (the cron polls ${PRODUCT_API[product].recordInfo} once it is overdue)`);
        }
      }
      for (const f of simTask.files) if (f.url) byPath.set(pathOf(f.url), { task: simTask, file: f });
      const st: Started = { scenario, product, label, simTask, musicTaskId, states, printed };
      started.push(st);
      const followed = follow(st);
      followed.catch(() => {}); // awaited below; a submission failing first must not leave it unhandled
      following.push(followed);
    }
    const finals = await Promise.all(following);

    // Let the provider side finish (late duplicates, retries) before judging the callbacks.
    await sim.idle(30_000).catch(() => {});

    // Every task that ended is announced to your app; wait for those announcements together.
    const announced = await Promise.all(
      started.map(async (st, i) => {
        const final = finals[i]?.state;
        if (!opts.expectAnnouncements || !app || (final !== "stored" && final !== "failed")) return null;
        const type = `${st.product}.${final}`;
        const taskId = st.simTask.taskId;
        try {
          return await app.waitFor((r) => r.verified && r.payload?.data.taskId === taskId && r.payload.type === type, opts.announcementTimeoutMs ?? 30_000);
        } catch {
          return null;
        }
      }),
    );

    const results: DemoResult[] = [];
    for (const [i, st] of started.entries()) {
      const task = finals[i] ?? null;
      const sim_ = st.simTask;
      const kind = st.scenario.kind;
      const problems: string[] = [];
      let servedSha256: string | null = null;
      let downloadedSha256: string | null = null;
      let downloadUrl: string | null = null;
      let signedLink: string | null = null;
      let files: FileCheck[] = [];
      const fetchesOfContent = contentUrls(sim_).reduce((n, url) => n + sim.served(url).length, 0);

      if (st.product === "wav") {
        const servedList = sim_.wavUrl ? sim.served(sim_.wavUrl) : [];
        servedSha256 = sim_.wavUrl ? (sim.servedSha256(sim_.wavUrl) ?? null) : null;
        if (kind === "failure") {
          const code = String(st.scenario.failureCode ?? 451);
          if (task?.state !== "failed") problems.push(`expected state failed, got ${task?.state ?? "no task"}`);
          else if (task.error?.code !== code) problems.push(`expected error.code ${code}, got ${task.error?.code}`);
          if (task?.wav) problems.push("a failed task has a WAV");
          if (servedList.length > 0) problems.push("the worker fetched a WAV for a failed task");
        } else if (task?.state !== "stored") {
          problems.push(`expected state stored, got ${task?.state ?? "no task"}${task?.error ? ` (${task.error.code}: ${task.error.message})` : ""}`);
        } else {
          if (servedSha256 === null) problems.push("the simulator never served the WAV completely");
          else if (task.wav?.sha256 !== servedSha256) problems.push(`sha256 in the task ${short(task.wav?.sha256)} ≠ served ${short(servedSha256)}`);
          const served = servedList.find((w) => w.complete);
          if (served && task.wav?.size !== served.totalBytes) problems.push(`size ${task.wav?.size} ≠ served ${served.totalBytes}`);
          downloadUrl = worker.downloadUrl(task.taskId);
          if (opts.download ?? true) {
            const d = await worker.download(task.taskId);
            downloadedSha256 = d.sha256;
            if (d.status !== 200) problems.push(`download answered ${d.status}`);
            else if (d.sha256 !== servedSha256) problems.push(`downloaded sha256 ${short(d.sha256)} ≠ served ${short(servedSha256)}`);
            try {
              signedLink = (await worker.link(task.taskId, 3600)).url;
            } catch (err) {
              problems.push(`no signed link: ${(err as Error).message}`);
            }
          }
        }
        if (kind === "duplicate") {
          const fetches = servedList.length;
          if (fetches !== 1) problems.push(`the WAV was fetched ${fetches} times, expected once`);
          if (task && task.attempts !== 1) problems.push(`attempts ${task.attempts}, expected 1`);
        }
      } else if (kind === "failure") {
        const code = String(st.scenario.failureCode ?? "");
        if (task?.state !== "failed") problems.push(`expected state failed, got ${task?.state ?? "no task"}`);
        else if (code !== "" && task.error?.code !== code) problems.push(`expected error.code ${code}, got ${task.error?.code}`);
        if (fetchesOfContent > 0) problems.push(`the worker fetched ${fetchesOfContent} file(s) of a failed task`);
      } else {
        if (task?.state !== "stored") problems.push(`expected state stored, got ${task?.state ?? "no task"}${task?.error ? ` (${task.error.code}: ${task.error.message})` : ""}`);
        if (task && task.kind !== undefined && task.kind !== st.product) problems.push(`the task's kind is ${task.kind}, expected ${st.product}`);
        files = await checkFiles(sim, worker, sim_, task, opts.download ?? true);
        for (const f of files) if (!f.ok) problems.push(`${f.name}: ${f.note ?? "not as served"}`);
        const extra = (task?.files ?? []).filter((f) => !sim_.files.some((e) => e.name === f.name));
        if (extra.length > 0) problems.push(`the task has files the provider never named: ${extra.map((f) => f.name).join(", ")}`);
      }

      if (kind === "duplicate") {
        const copies = st.scenario.copies ?? 3;
        const answered = sim_.callbacks.filter((c) => c.status === 200).length;
        if (answered !== copies) problems.push(`${answered} of ${copies} callback copies answered 200`);
      }
      if (kind === "success" || kind === "failure") {
        const stages = [...new Set(sim_.callbacks.map((c) => c.stage ?? ""))];
        if (stages.length === 0) problems.push("no callback was sent");
        for (const s of stages) {
          if (!sim_.callbacks.some((c) => (c.stage ?? "") === s && c.status === 200)) problems.push(`the ${s ? `${s} ` : ""}callback was not answered 200`);
        }
      }
      if (kind === "late") {
        if (sim_.callbacks.length > 0) problems.push("a late task got a callback");
        const pendingWanted = st.scenario.pendingPolls ?? 0;
        if (sim_.pendingAnswers < pendingWanted) problems.push(`record-info answered PENDING ${sim_.pendingAnswers} times, expected ${pendingWanted}`);
        if (sim_.recordInfoCalls < pendingWanted + 1) problems.push(`the worker polled ${sim_.recordInfoCalls} times, expected ≥ ${pendingWanted + 1}`);
      }

      let announcedDownloadSha256: string | null = null;
      if (opts.expectAnnouncements && app && (task?.state === "stored" || task?.state === "failed")) {
        const a = announced[i];
        const type = `${st.product}.${task.state}`;
        if (!a) {
          problems.push(`no verified ${type} announcement reached your app within ${(opts.announcementTimeoutMs ?? 30_000) / 1000} s (is the worker's NOTIFY_URL ${app.url}?)`);
        } else {
          const data = a.payload!.data;
          if (a.contentType !== "application/json") problems.push(`announcement content-type ${a.contentType}`);
          if (!/^msg_./.test(a.id ?? "")) problems.push(`webhook-id ${a.id} does not start with msg_`);
          if (data.state !== task.state) problems.push(`announcement data.state ${data.state} ≠ ${task.state}`);
          if (st.product === "wav" && task.state === "stored") {
            if (!data.downloadUrl) problems.push("wav.stored announcement without downloadUrl");
            else {
              const d = await worker.downloadWithoutBearer(data.downloadUrl);
              announcedDownloadSha256 = d.sha256;
              if (d.status !== 200) problems.push(`the announcement's downloadUrl answered ${d.status} without the bearer`);
              else if (d.sha256 !== servedSha256) problems.push(`the announcement's download sha256 ${short(d.sha256)} ≠ served ${short(servedSha256)}`);
            }
            const expires = Date.parse(data.downloadExpiresAt ?? "");
            if (!(expires > Date.now() + 6 * 86_400_000)) problems.push(`downloadExpiresAt ${data.downloadExpiresAt} is not about 7 days ahead`);
          } else if (task.state === "stored") {
            // Every stored file carries its own signed link.
            for (const f of task.files ?? []) {
              const announcedFile = data.files?.find((x) => x.name === f.name);
              if (!announcedFile?.downloadUrl) {
                problems.push(`${type} announcement without a downloadUrl for ${f.name}`);
                continue;
              }
              const d = await worker.downloadWithoutBearer(announcedFile.downloadUrl);
              if (d.status !== 200) problems.push(`the announced downloadUrl of ${f.name} answered ${d.status} without the bearer`);
              else if (d.sha256 !== f.sha256) problems.push(`the announced download of ${f.name} has sha256 ${short(d.sha256)} ≠ ${short(f.sha256)}`);
            }
          } else {
            if (data.downloadUrl !== undefined) problems.push(`${type} announcement carries a downloadUrl`);
            if ((data.error as { code?: string } | null)?.code !== task.error?.code) problems.push(`announcement error.code ≠ task's ${task.error?.code}`);
          }
          // The worker records the 2xx it got; give it a moment to do so.
          const delivered = await waitForDelivered(worker, task.taskId, 10_000);
          if (delivered !== "delivered") problems.push(`notification.state is ${delivered ?? "missing"} after your app answered, expected delivered`);
        }
      }

      results.push({
        scenario: kind,
        product: st.product,
        label: st.label,
        taskId: sim_.taskId,
        musicTaskId: st.musicTaskId,
        expected: expectedOf(st.scenario),
        ok: problems.length === 0,
        problems,
        task,
        states: st.states,
        servedSha256,
        downloadedSha256,
        downloadUrl,
        signedLink,
        files,
        callbacks: sim_.callbacks,
        wavFetches: st.product === "wav" ? (sim_.wavUrl ? sim.served(sim_.wavUrl).length : 0) : fetchesOfContent,
        recordInfoCalls: sim_.recordInfoCalls,
        recordInfoPending: sim_.pendingAnswers,
        cronTriggers: sim_.cronTriggers.length,
        seconds: task ? (Date.parse(task.updatedAt) - sim_.createdAt) / 1000 : NaN,
        announcements: app?.announcementsFor(sim_.taskId) ?? [],
        announcedDownloadSha256,
      });
    }
    return results;
  } finally {
    unsubscribe();
    unsubscribeApp?.();
    clearInterval(flusher);
    flush(true);
  }
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** Every URL the provider has for a task's result, named in a callback or not (a failure's, say). */
function contentUrls(t: SimTask): string[] {
  const c = t.content;
  return [
    ...(t.wavUrl ? [t.wavUrl] : []),
    ...(c.tracks ?? []).flatMap((tr) => [tr.audioUrl, tr.imageUrl]),
    ...Object.values(c.stems ?? {}),
    ...(c.videoUrl ? [c.videoUrl] : []),
    ...(c.images ?? []),
  ];
}

/** Each file the provider made for `simTask`, as the worker has it: stored, as served, downloadable. */
async function checkFiles(sim: Simulator, worker: WorkerClient, simTask: SimTask, task: TaskJson | null, download: boolean): Promise<FileCheck[]> {
  const out: FileCheck[] = [];
  for (const f of simTask.files) {
    const have = task?.files?.find((x) => x.name === f.name) ?? null;
    const check: FileCheck = {
      name: f.name,
      role: f.role,
      track: f.track,
      state: have?.state ?? null,
      size: have?.size ?? null,
      sha256: have?.sha256 ?? null,
      servedSha256: null,
      downloadedSha256: null,
      fetches: f.url ? sim.served(f.url).length : 0,
      note: null,
      ok: false,
    };
    out.push(check);
    const problems: string[] = [];
    if (!have) problems.push("not in the task");
    else {
      if (have.state !== "stored") problems.push(`${have.state}${have.error ? ` (${have.error.code}: ${have.error.message})` : ""}`);
      if (have.role !== f.role) problems.push(`role ${have.role}, expected ${f.role}`);
      if (have.track !== f.track) problems.push(`track ${have.track}, expected ${f.track}`);
      if (have.contentType !== f.contentType) problems.push(`content type ${have.contentType}, expected ${f.contentType}`);
    }
    if (f.url) {
      check.servedSha256 = sim.servedSha256(f.url) ?? null;
      if (check.servedSha256 === null) problems.push("never served completely");
      else if (have?.sha256 !== check.servedSha256) problems.push(`sha256 in the task ${short(have?.sha256)} ≠ served ${short(check.servedSha256)}`);
      if (check.fetches !== 1) problems.push(`fetched ${check.fetches} times, expected once`);
      if (download && have?.state === "stored") {
        const d = await worker.downloadFile(simTask.taskId, f.name);
        check.downloadedSha256 = d.sha256;
        if (d.status !== 200) problems.push(`download answered ${d.status}`);
        else if (d.sha256 !== check.servedSha256) problems.push(`downloaded sha256 ${short(d.sha256)} ≠ served ${short(check.servedSha256)}`);
        if (d.headers.get("content-type") !== f.contentType) problems.push(`downloaded as ${d.headers.get("content-type")}`);
      }
    } else if (have?.state === "stored") {
      // Content the callback carried: read back and compared with what was sent.
      const d = await worker.fetchFile(simTask.taskId, f.name);
      check.downloadedSha256 = d.sha256;
      if (d.status !== 200) problems.push(`download answered ${d.status}`);
      else if (d.sha256 !== have.sha256) problems.push(`downloaded sha256 ${short(d.sha256)} ≠ the task's ${short(have.sha256)}`);
      const sent = f.name === "lyrics.json" ? simTask.inline.lyrics : simTask.inline.midi;
      if (f.name.endsWith(".json")) {
        check.servedSha256 = sent === undefined ? null : sha256(JSON.stringify(sent));
        let parsed: unknown;
        try {
          parsed = JSON.parse(d.body.toString("utf8"));
        } catch {
          problems.push("not JSON");
        }
        if (parsed !== undefined && !isDeepStrictEqual(parsed, sent)) problems.push("its JSON is not what the provider sent");
        else if (parsed !== undefined) check.note = check.servedSha256 === d.sha256 ? "the JSON as sent, byte for byte" : "the same JSON as sent";
      } else {
        // midi.mid: a Standard MIDI File with one named track per instrument and every note.
        const instruments = simTask.content.midi?.instruments ?? [];
        try {
          const midi = parseMidi(d.body);
          const tracks = midi.tracks.slice(1).map((t) => ({
            name: (t.find((e) => e.type === "trackName") as { text?: string } | undefined)?.text ?? "",
            notes: t.filter((e) => e.type === "noteOn" && (e as { velocity: number }).velocity > 0).length,
          }));
          const wanted = instruments.map((x) => ({ name: x.name, notes: x.notes.length }));
          if (!isDeepStrictEqual(tracks, wanted)) problems.push(`its tracks are ${JSON.stringify(tracks)}, expected ${JSON.stringify(wanted)}`);
          else check.note = `${wanted.reduce((n, x) => n + x.notes, 0)} notes in ${wanted.length} named tracks, as sent`;
        } catch (err) {
          problems.push(`not a MIDI file: ${(err as Error).message}`);
        }
      }
    }
    check.ok = problems.length === 0;
    if (problems.length > 0) check.note = problems.join("; ");
  }
  return out;
}

/** The task id an announcement body names, read without trusting it (for printing only). */
function claimedTaskId(body: string): string | null {
  try {
    const id = (JSON.parse(body) as { data?: { taskId?: unknown } }).data?.taskId;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/** Polls the task until notification.state is delivered (or the time is up); its last state. */
async function waitForDelivered(worker: WorkerClient, taskId: string, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await worker.get(taskId))?.notification?.state ?? null;
    // null: a worker without the notification field; waiting will not make one appear.
    if (state === null || state === "delivered" || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A plain-text summary of demo results, one block per task. */
export function formatResults(results: DemoResult[]): string {
  const out: string[] = [];
  const width = Math.max(9, ...results.map((r) => r.label.length));
  for (const r of results) {
    out.push(`${r.ok ? "PASS" : "FAIL"}  ${r.label.padEnd(width)} ${r.taskId}  expected: ${r.expected}`);
    const callbacks = r.callbacks.map((c) => `${c.stage ? `${c.stage} ` : ""}${c.status ?? "err"}`).join(", ") || "none";
    const fetched = r.product === "wav" ? "WAV fetches" : "file fetches";
    out.push(
      `      journey: submitted → ${r.states.join(" → ")}   callbacks: ${callbacks}   record-info: ${r.recordInfoCalls} (${r.recordInfoPending} PENDING)   ${fetched}: ${r.wavFetches}   ${Number.isFinite(r.seconds) ? `${r.seconds.toFixed(1)} s` : ""}`,
    );
    if (r.task?.wav) {
      const same = r.task.wav.sha256 === r.servedSha256 ? "= served ✓" : `≠ served ${r.servedSha256}`;
      const dl = r.downloadedSha256 === null ? "" : r.downloadedSha256 === r.servedSha256 ? ", download ✓" : ", download ✗";
      out.push(`      wav: ${bytes(r.task.wav.size)} B  sha256 ${r.task.wav.sha256} ${same}${dl}`);
    }
    if (r.files.length > 0) {
      const nameWidth = Math.max(...r.files.map((f) => f.name.length));
      out.push("      files:");
      for (const f of r.files) {
        const size = f.size === null ? "-" : `${bytes(f.size)} B`;
        let verdict: string;
        if (!f.ok) verdict = `✗ ${f.note ?? ""}`;
        else if (f.servedSha256 !== null && f.fetches > 0) verdict = `= served ✓${f.downloadedSha256 === null ? "" : ", download ✓"}`;
        else verdict = `✓ ${f.note ?? ""}`;
        out.push(`        ${f.name.padEnd(nameWidth)}  ${size.padStart(9)}  sha256 ${f.sha256 ?? "-".padEnd(64)}  ${verdict}`);
      }
    }
    if (r.task?.error) out.push(`      error: ${r.task.error.code}: ${r.task.error.message}`);
    if (r.downloadUrl) out.push(`      download (bearer): ${r.downloadUrl}`);
    if (r.signedLink) out.push(`      download (signed link, 1 h): ${r.signedLink}`);
    for (const a of r.announcements) {
      const link = a.payload?.data.downloadUrl
        ? r.announcedDownloadSha256 === null
          ? ""
          : r.announcedDownloadSha256 === r.servedSha256
            ? ", its downloadUrl works without the bearer ✓"
            : ", its downloadUrl ✗"
        : a.payload?.data.files?.some((f) => f.downloadUrl)
          ? ", each file's downloadUrl checked without the bearer"
          : "";
      out.push(`      announced: ${a.payload?.type} ${a.id} (signature verified, copy ${a.copy}) → your app answered ${a.status}${link}`);
    }
    for (const p of r.problems) out.push(`      problem: ${p}`);
  }
  return out.join("\n");
}
