// The demo flow: one task per scenario, submitted through the worker (POST /api/tasks, so the
// worker calls the simulator's generate endpoint with its own callBackUrl), followed to the end,
// and checked: final state, sha256 in the task JSON = sha256 of the WAV the simulator served =
// sha256 of the download, callbacks answered, WAV fetched once. With "your app" (./your-app.ts)
// and expectAnnouncements, also that every task that ended was announced to it, signed (verified
// with the standardwebhooks package) and with a download link that works without the bearer.
// Used by the CLI (./main.ts) and by the e2e tests.

import type { CallbackDelivery, Scenario, ScenarioName, SimEvent, Simulator, SimTask } from "./simulator.ts";
import { WorkerClient, type TaskJson } from "./worker-client.ts";
import type { Received, YourApp } from "./your-app.ts";

export interface DemoOptions {
  sim: Simulator;
  worker: WorkerClient;
  /** One task per entry; default one of each: success, failure, duplicate, late. */
  scenarios?: Scenario[];
  /** The worker's OVERDUE_AFTER_SECONDS (how long a late task takes at least). */
  overdueAfterSeconds: number;
  /** Download each stored WAV and hash it; default true. */
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

export interface DemoResult {
  scenario: ScenarioName;
  taskId: string;
  musicTaskId: string;
  expected: string;
  ok: boolean;
  problems: string[];
  task: TaskJson | null;
  /** The task's states in order, from its own history (GET /api/tasks/:id/events). */
  states: string[];
  servedSha256: string | null;
  downloadedSha256: string | null;
  downloadUrl: string | null;
  signedLink: string | null;
  callbacks: CallbackDelivery[];
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

export const DEFAULT_SCENARIOS: Scenario[] = [{ kind: "success" }, { kind: "failure" }, { kind: "duplicate" }, { kind: "late" }];

const EXPECTED: Record<ScenarioName, string> = {
  success: "stored, sha256 matches",
  failure: "failed with the provider's code",
  duplicate: "stored once, every copy answered 200",
  late: "stored through the cron, no callback",
};

const short = (s: string | null | undefined, n = 12) => (s ? (s.length > n ? `${s.slice(0, n)}…` : s) : "-");
const bytes = (n: number) => n.toLocaleString("en-US");

/**
 * How long a journey line is held back before it is printed. The worker's state changes are read
 * from its history a poll later (their times are the worker's own), so lines are kept this long
 * and printed in time order.
 */
const HOLD_MS = 2000;

type HistoryEntry = { at: string; type: string; [k: string]: unknown };

/**
 * The states a task went through, with when, read from its history: registered → pending, a
 * callback that brought a WAV URL or a transfer attempt → downloading, stored, failed. Polling
 * GET /api/tasks/:id could miss a state that lasted less than a poll; the history does not.
 */
export function statesFromHistory(events: readonly HistoryEntry[]): { state: string; at: number }[] {
  const out: { state: string; at: number }[] = [];
  const push = (state: string, at: string) => {
    if (out.at(-1)?.state !== state) out.push({ state, at: Date.parse(at) });
  };
  for (const e of events) {
    if (e.type === "registered") push("pending", e.at);
    else if (e.type === "callback" && e.outcome === "applied") push(e.code === 200 ? "downloading" : "failed", e.at);
    else if (e.type === "transfer_started") push("downloading", e.at);
    else if (e.type === "stored" || e.type === "failed") push(e.type, e.at);
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
  const byId = new Map<string, { kind: ScenarioName }>();
  const byWavPath = new Map<string, SimTask>();
  const quietRuns = new Map<string, number>();

  // Journey lines wait HOLD_MS in a queue and come out in time order (see HOLD_MS).
  const queue: { at: number; seq: number; text: string }[] = [];
  let seq = 0;
  const line = (at: number, kind: string, taskId: string, text: string) => {
    const stampAt = `+${(Math.max(0, at - t0) / 1000).toFixed(1).padStart(5)}s`;
    queue.push({ at, seq: seq++, text: `${stampAt}  ${kind.padEnd(9)} ${short(taskId)}  ${text}` });
  };
  const flush = (all: boolean) => {
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const cutoff = all ? Infinity : Date.now() - HOLD_MS;
    while (queue.length > 0 && queue[0]!.at <= cutoff) log(queue.shift()!.text);
  };
  const flusher = setInterval(() => flush(false), 200);

  const unsubscribe = sim.on((e: SimEvent) => {
    switch (e.type) {
      case "callback": {
        if (!byId.has(e.task.taskId)) return;
        const d = e.delivery;
        const what = d.status === null ? `failed (${d.error})` : `HTTP ${d.status} ${d.body.slice(0, 60)}`;
        // At the time it was sent: the worker records it before it answers.
        line(d.at - d.ms, e.task.scenario.kind, e.task.taskId, `provider → worker callback copy ${d.copy}${d.attempt > 1 ? ` retry ${d.attempt}` : ""}: ${what} (${d.ms.toFixed(0)} ms)`);
        return;
      }
      case "record-info":
        if (e.task && byId.has(e.taskId)) line(e.at, e.task.scenario.kind, e.taskId, `worker polled record-info → ${e.flag}`);
        return;
      case "ready":
        if (byId.has(e.task.taskId)) line(e.at, e.task.scenario.kind, e.task.taskId, "provider: conversion finished (record-info now says SUCCESS; no callback will come)");
        return;
      case "cron-start":
        if (byId.has(e.task.taskId) && e.run === 1) {
          line(e.at, e.task.scenario.kind, e.task.taskId, `overdue: the simulator runs the worker's cron (GET /__scheduled) now, then every few seconds until the worker has the WAV URL`);
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
        line(e.at, e.task.scenario.kind, e.task.taskId, `cron run ${e.run}: ${e.status ?? e.error} in ${e.ms.toFixed(0)} ms, ${e.recordInfoCalls} record-info call(s) for this task${skipped}`);
        return;
      }
      case "wav-end": {
        const task = byWavPath.get(e.served.path);
        if (!task) return;
        const s = e.served;
        line(e.at, task.scenario.kind, task.taskId, `worker fetched the WAV${s.chunked ? " (chunked)" : ""}: ${bytes(s.bytesSent)} B${s.complete ? "" : " (incomplete)"}, sha256 ${short(s.sha256, 16)}`);
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
    if (r.verified) line(r.at, task.kind, taskId, `worker → your app: announced ${r.payload!.type} (signature verified)${again} → your app answered ${r.status}`);
    else line(r.at, task.kind, taskId, `worker → your app: announcement REFUSED, signature not verified (${r.error}) → 401`);
  });

  try {
    // Submit every scenario's task through the worker.
    const started: { scenario: Scenario; simTask: SimTask; musicTaskId: string; states: string[]; printed: number }[] = [];
    // The worker's own record of each change, with its time; printed once per state change.
    const syncStates = async (st: (typeof started)[number]) => {
      let history: { state: string; at: number }[];
      try {
        history = statesFromHistory(await worker.events(st.simTask.taskId));
      } catch {
        return; // the next change or the end tries again
      }
      if (history.length === 0) return;
      st.states = history.map((h) => h.state);
      for (; st.printed < history.length; st.printed++) {
        const h = history[st.printed]!;
        line(h.at, st.scenario.kind, st.simTask.taskId, `worker: ${history[st.printed - 1]?.state ?? "new"} → ${h.state}`);
      }
    };
    // Follow every task to its final state, from the moment it is submitted.
    const deadlineMs = (s: Scenario) =>
      s.kind === "late" ? opts.overdueAfterSeconds * 1000 + 45_000 + (s.pendingPolls ?? 0) * 40_000 : 30_000;
    const follow = async (st: (typeof started)[number]): Promise<TaskJson | null> => {
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
        line(Date.now(), st.scenario.kind, st.simTask.taskId, `worker: gave up waiting (${(err as Error).message})`);
        return worker.get(st.simTask.taskId);
      } finally {
        await syncing;
        await syncStates(st);
      }
    };
    const following: Promise<TaskJson | null>[] = [];

    for (const [i, scenario] of scenarios.entries()) {
      const musicTaskId = `music-${stamp}-${i}`;
      const audioId = `${scenario.kind}-${stamp}-${i}`;
      sim.plan(audioId, scenario);
      const task = await worker.submit(musicTaskId, audioId);
      const simTask = sim.tasks.get(task.taskId);
      if (!simTask) throw new Error(`the worker registered ${task.taskId}, which the simulator never issued`);
      byId.set(task.taskId, { kind: scenario.kind });
      if (simTask.wavUrl) byWavPath.set(new URL(simTask.wavUrl).pathname + new URL(simTask.wavUrl).search, simTask);
      line(Date.now(), scenario.kind, task.taskId, `submitted: POST /api/tasks → 202 ${task.state} (provider issued WAV task ${task.taskId})`);
      const st = { scenario, simTask, musicTaskId, states: [task.state], printed: 1 };
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
        const type = final === "stored" ? "wav.stored" : "wav.failed";
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
      const servedList = sim_.wavUrl ? sim.served(sim_.wavUrl) : [];
      const servedSha256 = sim_.wavUrl ? (sim.servedSha256(sim_.wavUrl) ?? null) : null;
      let downloadedSha256: string | null = null;
      let downloadUrl: string | null = null;
      let signedLink: string | null = null;

      if (kind === "failure") {
        const code = String(st.scenario.failureCode ?? 451);
        if (task?.state !== "failed") problems.push(`expected state failed, got ${task?.state ?? "no task"}`);
        else if (task.error?.code !== code) problems.push(`expected error.code ${code}, got ${task.error?.code}`);
        if (task?.wav) problems.push("a failed task has a WAV");
        if (servedList.length > 0) problems.push("the worker fetched a WAV for a failed task");
      } else {
        if (task?.state !== "stored") {
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
      }
      if (kind === "duplicate") {
        const copies = st.scenario.copies ?? 3;
        const answered = sim_.callbacks.filter((c) => c.status === 200).length;
        if (answered !== copies) problems.push(`${answered} of ${copies} callback copies answered 200`);
        const fetches = servedList.length;
        if (fetches !== 1) problems.push(`the WAV was fetched ${fetches} times, expected once`);
        if (task && task.attempts !== 1) problems.push(`attempts ${task.attempts}, expected 1`);
      }
      if (kind === "success" || kind === "failure") {
        if (!sim_.callbacks.some((c) => c.status === 200)) problems.push("the callback was not answered 200");
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
        const type = task.state === "stored" ? "wav.stored" : "wav.failed";
        if (!a) {
          problems.push(`no verified ${type} announcement reached your app within ${(opts.announcementTimeoutMs ?? 30_000) / 1000} s (is the worker's NOTIFY_URL ${app.url}?)`);
        } else {
          const data = a.payload!.data;
          if (a.contentType !== "application/json") problems.push(`announcement content-type ${a.contentType}`);
          if (!/^msg_./.test(a.id ?? "")) problems.push(`webhook-id ${a.id} does not start with msg_`);
          if (data.state !== task.state) problems.push(`announcement data.state ${data.state} ≠ ${task.state}`);
          if (task.state === "stored") {
            if (!data.downloadUrl) problems.push("wav.stored announcement without downloadUrl");
            else {
              const d = await worker.downloadWithoutBearer(data.downloadUrl);
              announcedDownloadSha256 = d.sha256;
              if (d.status !== 200) problems.push(`the announcement's downloadUrl answered ${d.status} without the bearer`);
              else if (d.sha256 !== servedSha256) problems.push(`the announcement's download sha256 ${short(d.sha256)} ≠ served ${short(servedSha256)}`);
            }
            const expires = Date.parse(data.downloadExpiresAt ?? "");
            if (!(expires > Date.now() + 6 * 86_400_000)) problems.push(`downloadExpiresAt ${data.downloadExpiresAt} is not about 7 days ahead`);
          } else {
            if (data.downloadUrl !== undefined) problems.push("wav.failed announcement carries a downloadUrl");
            if ((data.error as { code?: string } | null)?.code !== task.error?.code) problems.push(`announcement error.code ≠ task's ${task.error?.code}`);
          }
          // The worker records the 2xx it got; give it a moment to do so.
          const delivered = await waitForDelivered(worker, task.taskId, 10_000);
          if (delivered !== "delivered") problems.push(`notification.state is ${delivered ?? "missing"} after your app answered, expected delivered`);
        }
      }

      const result: DemoResult = {
        scenario: kind,
        taskId: sim_.taskId,
        musicTaskId: st.musicTaskId,
        expected: EXPECTED[kind],
        ok: problems.length === 0,
        problems,
        task,
        states: st.states,
        servedSha256,
        downloadedSha256,
        downloadUrl,
        signedLink,
        callbacks: sim_.callbacks,
        wavFetches: servedList.length,
        recordInfoCalls: sim_.recordInfoCalls,
        recordInfoPending: sim_.pendingAnswers,
        cronTriggers: sim_.cronTriggers.length,
        seconds: task ? (Date.parse(task.updatedAt) - sim_.createdAt) / 1000 : NaN,
        announcements: app?.announcementsFor(sim_.taskId) ?? [],
        announcedDownloadSha256,
      };
      results.push(result);
    }
    return results;
  } finally {
    unsubscribe();
    unsubscribeApp?.();
    clearInterval(flusher);
    flush(true);
  }
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
  for (const r of results) {
    out.push(`${r.ok ? "PASS" : "FAIL"}  ${r.scenario.padEnd(9)} ${r.taskId}  expected: ${r.expected}`);
    out.push(`      journey: submitted → ${r.states.join(" → ")}   callbacks: ${r.callbacks.map((c) => c.status ?? "err").join(",") || "none"}   record-info: ${r.recordInfoCalls} (${r.recordInfoPending} PENDING)   WAV fetches: ${r.wavFetches}   ${Number.isFinite(r.seconds) ? `${r.seconds.toFixed(1)} s` : ""}`);
    if (r.task?.wav) {
      const same = r.task.wav.sha256 === r.servedSha256 ? "= served ✓" : `≠ served ${r.servedSha256}`;
      const dl = r.downloadedSha256 === null ? "" : r.downloadedSha256 === r.servedSha256 ? ", download ✓" : ", download ✗";
      out.push(`      wav: ${bytes(r.task.wav.size)} B  sha256 ${r.task.wav.sha256} ${same}${dl}`);
    }
    if (r.task?.error) out.push(`      error: ${r.task.error.code}: ${r.task.error.message}`);
    if (r.downloadUrl) out.push(`      download (bearer): ${r.downloadUrl}`);
    if (r.signedLink) out.push(`      download (signed link, 1 h): ${r.signedLink}`);
    for (const a of r.announcements) {
      const link = a.payload?.data.downloadUrl
        ? r.announcedDownloadSha256 === null ? "" : r.announcedDownloadSha256 === r.servedSha256 ? ", its downloadUrl works without the bearer ✓" : ", its downloadUrl ✗"
        : "";
      out.push(`      announced: ${a.payload?.type} ${a.id} (signature verified, copy ${a.copy}) → your app answered ${a.status}${link}`);
    }
    for (const p of r.problems) out.push(`      problem: ${p}`);
  }
  return out.join("\n");
}
