// The task state machine: pure functions from (task, event, now, context) to the next task. No
// I/O, no runtime: the shard object (../shard/shard.ts) loads a task, applies an event, and saves
// the result in the same synchronous step; unit tests drive these functions directly. The states
// and what moves a task between them are README's "States" and "Task lifecycle and the cron".
//
// A task holds the files its provider task yields (one WAV; two tracks' MP3 and cover art; a
// dozen stems; …). Each file has its own small machine — transfer attempts, retries with backoff
// until the provider's retention ends, link refreshes — and the task's state follows from its
// files and from how far the provider got:
//
//   pending ──files offered──▶ downloading ──every file stored, provider complete──▶ stored (final)
//      │  ▲                      │   │
//      │  └── first files stored, provider not complete yet
//      │                         │   └── a file that can never be stored ─────────────▶ failed
//      └── providerFailed / expired ──────────────────────────────────────────────────▶ failed
//   failed ──newer files offered / retryRequested──▶ downloading (or pending with no file to fetch)
//
// Reaching `stored` or `failed` also starts the task's announcement (`notification`) when the
// deployment announces tasks; that sub-machine is ./notification.ts, and its events pass through
// apply() like the others. Every transfer attempt handed out takes the next `epoch`, a number that
// only grows over the task's whole life (README, "Transfers"): a report is credited only to the
// attempt it names.

import type { FileOffer, FileRole, FileSource, KindName, Stage, TaskError } from "../kinds/kind";
import type { WavFormat } from "../transfer/wav-format";
import { FAILED_TASK_POLL_MS, MIN_POLL_INTERVAL_MS, pollDelayMs, REFRESH_EVERY_ATTEMPTS, TRANSFER_LEASE_MS, TRANSFERS_AT_ONCE, transferRetryDelayMs } from "./backoff";
import {
  announce,
  initialNotification,
  notificationStep,
  quiet,
  type Notification,
  type NotificationEvent,
  type NotifyContext,
} from "./notification";

export type { TaskError };

export const TASK_STATES = ["pending", "downloading", "stored", "failed"] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const FILE_STATES = ["waiting", "stored", "failed"] as const;
export type FileState = (typeof FILE_STATES)[number];

/** A file as it is in R2. */
export interface StoredFile {
  key: string;
  size: number;
  sha256: string;
  contentType: string;
  /** A WAV's facts, read from its header as it streamed (README, "Transfers"). */
  format?: WavFormat;
  /** R2's etag of the object the attempt wrote: a late success is credited only if it is still there. */
  etag?: string;
  /** A WAV's waveform beside it in R2 (how many buckets), or why there is none. */
  waveform?: { buckets: number } | { none: string };
}

/** What the WAV of a `wav` task was called before tasks had files (the API still shows it). */
export type WavInfo = StoredFile;

export interface MusicRef {
  taskId: string;
  audioId: string;
}

export interface TaskFile {
  name: string;
  role: FileRole;
  track: string | null;
  contentType: string;
  source: FileSource;
  /** Signed timestamp (unix s) of the callback that brought `source`; null if unsigned/polled. */
  signedAt: number | null;
  /** When a source for it was first known: transfers are retried until the provider's retention ends. */
  knownAt: number;
  state: FileState;
  /** Transfer attempts since the source became known (or since the last manual retry). */
  attempts: number;
  /**
   * The attempt handed to the runner and not answered yet: its epoch, and when it started or last
   * said it got further (its lease counts from then).
   */
  running: { epoch: number; since: number } | null;
  /** How far a transfer in parts has got (bytes in R2, of how many), while one runs. */
  progress?: { offset: number; total: number | null } | null;
  /** When its next attempt is due, while it waits and none runs. */
  dueAt: number | null;
  /** The next attempt first asks record-info for a current URL (an expired or moved link). */
  refreshUrl: boolean;
  /** Why its last attempt failed (or why it can never be stored). */
  error: TaskError | null;
  stored: StoredFile | null;
}

export interface Task {
  taskId: string;
  kind: KindName;
  state: TaskState;
  /** Times are epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Where TASK_MAX_AGE_SECONDS counts from: registration, or the last manual retry. */
  ageFrom: number;
  /** How far the provider got; null before it said anything. */
  stage: Stage | null;
  files: TaskFile[];
  /**
   * Why the task failed as a whole (the provider reported failure, or it expired); null otherwise.
   * A file that can never be stored fails the task too: see failureOf().
   */
  failure: TaskError | null;
  /** What keeps a pending task waiting (the provider had nothing usable), for people to see. */
  notice: TaskError | null;
  /** Provider polls made (cron, retries, link refreshes). */
  polls: number;
  lastPolledAt: number | null;
  /** pending: when the cron polls it next. */
  pollAt: number | null;
  /** The last epoch handed out; grows with every attempt, over the task's whole life. */
  epoch: number;
  /** The epoch this life of the task began after (DELETE and PUT start a new life). */
  bornAtEpoch: number;
  music: MusicRef | null;
  notification: Notification;
}

/** What the machine needs to know about the deployment (and how to name a new announcement). */
export interface MachineContext extends NotifyContext {
  overdueAfterMs: number;
  maxAgeMs: number;
  /** PROVIDER_RETENTION_SECONDS in ms: how long after a source is known transfers are retried. */
  retentionMs: number;
}

export type TaskEvent =
  /** `epoch`: where a task registered anew after DELETE continues counting. */
  | { type: "registered"; kind?: KindName; music?: MusicRef | null; epoch?: number }
  /**
   * The provider named files (a verified callback — `signedAt`: its signature's timestamp — or a
   * poll), or said how far it got. Inline content arrives here already staged (`{staged}`).
   */
  | { type: "offered"; kind?: KindName; stage: Stage; files: StagedOffer[]; signedAt?: number | null }
  | { type: "providerFailed"; error: TaskError; kind?: KindName }
  /** An attempt for `file` is handed to the runner (it takes the next epoch). */
  | { type: "transferStarted"; file: string; refreshUrl?: boolean }
  /** record-info gave current URLs (by file name) for the files still to fetch. */
  /** record-info's current URLs, asked for by the attempt of `file` before it fetched. */
  | { type: "urlsRefreshed"; file: string; urls: Record<string, string> }
  | { type: "transferSucceeded"; file: string; epoch: number; stored: StoredFile }
  /** `refreshUrl`: the source said the link is expired or moved (401/403/404/410). */
  | { type: "transferFailed"; file: string; epoch: number; error: TaskError; retryable: boolean; refreshUrl?: boolean }
  /** The attempt of `epoch` was handed out but never answered (the runner's isolate died). */
  | { type: "transferInterrupted"; file: string; epoch: number }
  /** The attempt of `epoch` paused at the end of a time slice with this much in R2: it goes on. */
  | { type: "transferProgress"; file: string; epoch: number; offset: number; total: number | null }
  | { type: "pollStarted" }
  | { type: "pollPending" }
  /**
   * The provider could not be asked at all (down, 5xx, maintenance): that time does not count
   * toward TASK_MAX_AGE_SECONDS. `previousPollAt`: when the task was polled before this poll.
   */
  | { type: "pollTrouble"; previousPollAt: number | null }
  /** record-info had nothing usable about this task (`data: null`, SUCCESS without a URL). */
  | { type: "pollNoResult"; message: string }
  | { type: "expired" }
  /** POST /retry; `bulk` when it came with every other failed task (POST /api/tasks/retry). */
  | { type: "retryRequested"; bulk?: boolean }
  | NotificationEvent;

/** A file offer whose inline content, if any, has been kept under its own R2 key. */
export type StagedOffer = Omit<FileOffer, "source"> & { source: FileSource };

const STAGE_ORDER: Record<Stage, number> = { text: 1, first: 2, complete: 3 };

function blank(taskId: string, kind: KindName, now: number, ctx: MachineContext, epoch = 0): Task {
  return {
    taskId,
    kind,
    state: "pending",
    createdAt: now,
    updatedAt: now,
    ageFrom: now,
    stage: null,
    files: [],
    failure: null,
    notice: null,
    polls: 0,
    lastPolledAt: null,
    pollAt: null,
    epoch,
    bornAtEpoch: epoch,
    music: null,
    notification: initialNotification(ctx),
  };
}

/**
 * Applies one event. Returns the same object when the event changes nothing, so callers can
 * skip the write (`next === task`). A task that does not exist yet is `null`.
 */
export function apply(task: Task | null, taskId: string, event: TaskEvent, now: number, ctx: MachineContext): Task | null {
  const kind = ("kind" in event && event.kind) || "wav";
  const epoch = event.type === "registered" ? (event.epoch ?? 0) : 0;
  const current = task ?? blank(taskId, kind, now, ctx, epoch);
  const stepped = step(current, event, now, ctx);
  if (stepped === current) return task;
  let next = settle(stepped, now, ctx);
  // A new outcome (also failed → stored, when a late success is credited) has its own announcement.
  if (isFinal(next.state) && next.state !== current.state) {
    next = { ...next, notification: announce(next.notification, next.kind, next.state as "stored" | "failed", now, ctx) };
  }
  // Reopened (a retry, new files): the old outcome's announcement stops; the next outcome has its own.
  if (!isFinal(next.state) && isFinal(current.state)) next = { ...next, notification: quiet(next.notification, ctx) };
  return { ...next, updatedAt: now };
}

export function isFinal(state: TaskState): boolean {
  return state === "stored" || state === "failed";
}

function step(t: Task, e: TaskEvent, now: number, ctx: MachineContext): Task {
  switch (e.type) {
    case "registered": {
      // Registering a known task changes nothing but a missing track reference.
      const music = t.music ?? e.music ?? null;
      const pollAt = t.pollAt === null && t.state === "pending" && t.files.length === 0 ? t.createdAt + ctx.overdueAfterMs : t.pollAt;
      return music === t.music && pollAt === t.pollAt ? t : { ...t, music, pollAt };
    }

    case "offered":
      return offered(t, e, now);

    case "providerFailed":
      // Once the provider said complete, its files are what counts: a late failure changes nothing.
      if (isFinal(t.state) || t.stage === "complete") return t;
      return { ...t, failure: e.error, notice: null };

    case "transferStarted":
      return withFile(t, e.file, (f) => {
        if (f.state !== "waiting" || f.running !== null || isFinal(t.state)) return f;
        return {
          ...f,
          attempts: f.attempts + 1,
          running: { epoch: t.epoch + 1, since: now },
          dueAt: null,
          // A refresh that could not be made now (no key, polled < 30 s ago) is still wanted next time.
          refreshUrl: e.refreshUrl ? false : f.refreshUrl,
        };
      }, (next) => ({ ...next, epoch: t.epoch + 1, ...(e.refreshUrl ? { polls: t.polls + 1, lastPolledAt: now } : {}) }));

    case "urlsRefreshed": {
      let changed = false;
      const files = t.files.map((f) => {
        const url = e.urls[f.name];
        if (url === undefined || f.state === "stored" || !("url" in f.source) || f.source.url === url) return f;
        // A sibling's attempt under way goes on with the link it was handed.
        if (f.running !== null && f.name !== e.file) return f;
        changed = true;
        return { ...f, source: { url }, signedAt: null };
      });
      return changed ? { ...t, files } : t;
    }

    case "transferSucceeded":
      return withFile(t, e.file, (f) => {
        // A late success is never thrown away: any attempt of this life that stored the bytes counts
        // (the shard has checked that the object it wrote is still there).
        if (f.state === "stored" || e.epoch <= t.bornAtEpoch || e.epoch > t.epoch) return f;
        return { ...f, state: "stored", stored: e.stored, error: null, running: null, dueAt: null, refreshUrl: false, progress: null };
      });

    case "transferFailed":
      return withFile(t, e.file, (f) => {
        if (f.running?.epoch !== e.epoch) return f;
        const refresh = e.refreshUrl === true || f.attempts % REFRESH_EVERY_ATTEMPTS === 0;
        return failedAttempt(t, f, e.error, e.retryable, refresh, now, ctx);
      });

    case "transferInterrupted":
      return withFile(t, e.file, (f) => {
        if (f.running?.epoch !== e.epoch) return f;
        // An attempt that got nowhere before it was cut off is a failure like any other (backoff);
        // one that did checkpoint progress goes on in the runner without coming here.
        const error = { code: "interrupted", message: `transfer attempt ${f.attempts} was interrupted` };
        return failedAttempt(t, f, error, true, f.attempts % REFRESH_EVERY_ATTEMPTS === 0, now, ctx);
      });

    case "transferProgress":
      return withFile(t, e.file, (f) => {
        if (f.running?.epoch !== e.epoch) return f;
        return { ...f, running: { ...f.running, since: now }, progress: { offset: e.offset, total: e.total } };
      });

    case "pollStarted":
      if (t.state !== "pending" && t.state !== "failed") return t;
      // Not due again before the answer sets its real time (and never within the 30 s rule), so
      // an overlapping tick leaves it alone.
      return { ...t, polls: t.polls + 1, lastPolledAt: now, pollAt: t.state === "pending" ? now + MIN_POLL_INTERVAL_MS : failedPollAt(t, now, ctx) };

    case "pollPending":
    case "pollNoResult":
    case "pollTrouble":
      if (t.state === "failed") return { ...t, pollAt: failedPollAt(t, now, ctx) };
      if (t.state !== "pending") return t;
      return {
        ...t,
        pollAt: now + pollDelayMs(t.polls),
        notice: e.type === "pollNoResult" ? { code: "provider_no_result", message: e.message } : t.notice,
        // The time since its previous poll, during which the provider could not be asked, is
        // given back to the task's age.
        ...(e.type === "pollTrouble" ? { ageFrom: t.ageFrom + Math.max(0, now - Math.max(e.previousPollAt ?? t.ageFrom, t.ageFrom)) } : {}),
      };

    case "expired":
      if (t.state !== "pending") return t;
      return {
        ...t,
        failure: { code: "expired", message: `no result from the provider within ${Math.round(ctx.maxAgeMs / 1000)} s of registration` },
      };

    case "retryRequested":
      return retried(t, now);

    case "notifyStarted":
    case "notifyAnswered":
    case "notifyDisabled":
    case "notifyRequested": {
      const outcome = t.state === "stored" || t.state === "failed" ? t.state : null;
      const notification = notificationStep(t.notification, e, t.kind, outcome, now, ctx);
      return notification === t.notification ? t : { ...t, notification };
    }
  }
}

/** The provider named files (or said how far it got). */
function offered(t: Task, e: Extract<TaskEvent, { type: "offered" }>, now: number): Task {
  if (t.state === "stored") return t;
  const signedAt = e.signedAt ?? null;
  const stage = t.stage === null || STAGE_ORDER[e.stage] > STAGE_ORDER[t.stage] ? e.stage : t.stage;
  let changed = stage !== t.stage;
  const files = [...t.files];
  for (const offer of e.files) {
    const i = files.findIndex((f) => f.name === offer.name);
    const known = i >= 0 ? files[i]! : null;
    if (known === null) {
      files.push(newFile(offer, signedAt, now));
      changed = true;
    } else if (replaces(t, known, offer.source, signedAt)) {
      // Another source for a file still to fetch: only while waiting to retry or failed, and only
      // when it is newer than the one it replaces (README, "Replayed signatures").
      files[i] = { ...known, source: offer.source, signedAt, refreshUrl: false, error: null, dueAt: now, ...(known.state === "failed" ? reset(now) : {}) };
      changed = true;
    }
  }
  if (!changed) return t; // a duplicate, an older or replayed source, a source while an attempt runs
  if (t.state === "failed") {
    // A failed task that takes newer files has another go (its failure was about what it had);
    // a stage alone (a late `text`) does not reopen it.
    const filesChanged = files.length !== t.files.length || files.some((f, i) => f !== t.files[i]);
    return filesChanged ? { ...t, stage, files, failure: null, notice: null } : t;
  }
  return { ...t, stage, files };
}

function newFile(offer: StagedOffer, signedAt: number | null, now: number): TaskFile {
  return {
    name: offer.name,
    role: offer.role,
    track: offer.track,
    contentType: offer.contentType,
    source: offer.source,
    signedAt,
    knownAt: now,
    state: "waiting",
    attempts: 0,
    running: null,
    dueAt: now,
    refreshUrl: false,
    error: null,
    stored: null,
  };
}

/** Whether a newly offered source replaces a known file's. */
function replaces(t: Task, f: TaskFile, source: FileSource, signedAt: number | null): boolean {
  if (f.state === "stored" || f.running !== null || sameSource(f.source, source)) return false;
  if (f.state === "failed" && t.state !== "failed") return false;
  // When signatures are in use, only a newer signed timestamp wins; a polled source (null) is current.
  return signedAt === null || f.signedAt === null || signedAt > f.signedAt;
}

function sameSource(a: FileSource, b: FileSource): boolean {
  return "url" in a && "url" in b ? a.url === b.url : "staged" in a && "staged" in b ? a.staged === b.staged : false;
}

/** A fresh attempt budget and retention horizon. */
function reset(now: number): Partial<TaskFile> {
  return { state: "waiting", attempts: 0, knownAt: now, running: null, dueAt: now, error: null };
}

/** POST /retry: another go now. */
function retried(t: Task, now: number): Task {
  if (t.state === "failed") {
    // Every file not stored starts over (asking for a current URL first); the age limit counts anew.
    // A sibling whose attempt still runs keeps it: its report is still awaited.
    const files = t.files.map((f) => (f.state === "stored" || f.running !== null ? f : { ...f, ...reset(now), refreshUrl: "url" in f.source }));
    return { ...t, files, failure: null, notice: null, ageFrom: now, pollAt: Math.max(now, pollAllowedAt(t)) };
  }
  if (t.state === "downloading") {
    let changed = false;
    const files = t.files.map((f) => {
      if (f.state !== "waiting" || f.running !== null || f.dueAt === now) return f;
      changed = true;
      return { ...f, dueAt: now };
    });
    return changed ? { ...t, files } : t;
  }
  if (t.state === "pending") {
    const at = Math.max(now, pollAllowedAt(t));
    return t.pollAt === at ? t : { ...t, pollAt: at };
  }
  return t;
}

/** A failed attempt: retried with growing gaps until the provider's retention ends. */
function failedAttempt(t: Task, f: TaskFile, error: TaskError, retryable: boolean, refresh: boolean, now: number, ctx: MachineContext): TaskFile {
  const done = { ...f, running: null, refreshUrl: false, dueAt: null, progress: null };
  if (!retryable) return { ...done, state: "failed", error };
  const retryAt = now + transferRetryDelayMs(f.attempts);
  if (retryAt >= f.knownAt + ctx.retentionMs) {
    const message = `${error.message} (gave up after ${f.attempts} attempts: the provider keeps a file only ${Math.round(ctx.retentionMs / 1000)} s)`;
    return { ...done, state: "failed", error: { code: error.code, message } };
  }
  const dueAt = refresh ? Math.max(retryAt, refreshTime(t, now)) : retryAt;
  return { ...f, running: null, error, refreshUrl: refresh && "url" in f.source, dueAt, progress: null };
}

/**
 * The task's state and failure, from its files and how far the provider got: failed once the
 * provider failed or it expired, or once a file that can never be stored is the last word (its
 * siblings settled; the failure names the file); stored once the provider said complete and every
 * file is stored; downloading while a file is still to fetch; else pending (polled when overdue).
 */
function settle(t: Task, now: number, ctx: MachineContext): Task {
  let state: TaskState;
  // A file that can never be stored fails the task once its siblings have settled (stored, or
  // failed too): they are still fetched, so the announcement lists every file that could be kept.
  if (t.failure !== null || (failureOf(t) !== null && !t.files.some((f) => f.state === "waiting"))) state = "failed";
  else if (t.stage === "complete" && t.files.every((f) => f.state === "stored")) state = "stored";
  else if (t.files.some((f) => f.state === "waiting")) state = "downloading";
  else state = "pending";
  // A pending task is polled when overdue: OVERDUE_AFTER_SECONDS after it was registered, or at
  // once when its first files are stored and the rest are still to come. A failed one is looked
  // at once a day while the provider may still hold its files (failedPollAt).
  const pollAt =
    state === "pending"
      ? (t.pollAt ?? Math.max(now, t.createdAt + ctx.overdueAfterMs))
      : state === "failed"
        ? t.state === "failed"
          ? t.pollAt
          : failedPollAt({ ...t, state }, now, ctx)
        : null;
  const notice = state === "pending" ? t.notice : null;
  if (state === t.state && pollAt === t.pollAt && notice === t.notice) return t;
  return { ...t, state, pollAt, notice };
}

/**
 * Why the task failed, or null: the provider's failure or expiry, else the first file that can
 * never be stored (named, for tasks with several files).
 */
export function failureOf(t: Task): TaskError | null {
  if (t.failure !== null) return t.failure;
  const lost = t.files.find((f) => f.state === "failed");
  if (!lost) return null;
  return t.kind === "wav" ? lost.error! : { code: lost.error!.code, message: `${lost.name}: ${lost.error!.message}` };
}

/** Failures whose bytes were certainly wrong: asking the provider again changes nothing. */
const CERTAIN_FAILURES = new Set(["not_a_wav", "not_mp3", "not_jpeg", "not_png", "not_mp4", "not_midi_notes", "too_large", "source_refused"]);

/**
 * When a failed task is next polled: a day from now while the provider may still hold its files
 * (PROVIDER_RETENTION_SECONDS from registration), for a task that never had a usable file — the
 * provider failed, it expired, or its sources kept failing; never for bytes certainly wrong.
 */
function failedPollAt(t: Task, now: number, ctx: MachineContext): number | null {
  const failure = failureOf(t);
  if (failure === null || CERTAIN_FAILURES.has(failure.code)) return null;
  const at = now + FAILED_TASK_POLL_MS;
  return at < t.createdAt + ctx.retentionMs ? at : null;
}

/** Applies `change` to the named file (and `task` to the task when the file changed). */
function withFile(t: Task, name: string, change: (f: TaskFile) => TaskFile, task: (next: Task) => Task = (x) => x): Task {
  const i = t.files.findIndex((f) => f.name === name);
  if (i < 0) return t;
  const next = change(t.files[i]!);
  if (next === t.files[i]) return t;
  const files = [...t.files];
  files[i] = next;
  return task({ ...t, files });
}

/** A link refresh polls the provider: never within 30 s of the task's last poll. */
function refreshTime(t: Task, now: number): number {
  return Math.max(now, pollAllowedAt(t));
}

function pollAllowedAt(t: Task): number {
  return t.lastPolledAt === null ? 0 : t.lastPolledAt + MIN_POLL_INTERVAL_MS;
}

/** Whether a pending task may be polled now without breaking the provider's 30 s rule. */
export function mayPoll(t: Task, now: number): boolean {
  return (t.state === "pending" || t.state === "failed") && now >= pollAllowedAt(t);
}

/** Whether a pending task has outlived the configured maximum age. */
export function isExpired(t: Task, now: number, ctx: MachineContext): boolean {
  return t.state === "pending" && now - t.ageFrom >= ctx.maxAgeMs;
}

/** When a file's running attempt counts as lost (its lease ends). */
export function leaseEnds(f: TaskFile): number | null {
  return f.running === null ? null : f.running.since + TRANSFER_LEASE_MS;
}

/**
 * When the shard's alarm next has work for the task's files: a due attempt, or an attempt whose
 * lease ended. Null when none (a final task hands out nothing more).
 */
export function filesDueAt(t: Task): number | null {
  if (t.state !== "downloading") return null;
  // While as many attempts run as are handed out at once, a waiting file goes when one of them
  // is answered (which saves the task anew) or its lease ends, not at its own due time.
  const full = t.files.filter((f) => f.running !== null).length >= TRANSFERS_AT_ONCE;
  let at: number | null = null;
  for (const f of t.files) {
    if (f.state !== "waiting") continue;
    const due = f.running !== null ? leaseEnds(f) : full ? null : f.dueAt;
    if (due !== null && (at === null || due < at)) at = due;
  }
  return at;
}

/** When the task is next due, as the API shows it (null while nothing is planned or when final). */
export function nextAttemptAt(t: Task): number | null {
  if (t.state === "pending") return t.pollAt;
  if (t.state !== "downloading") return null;
  const due = t.files.filter((f) => f.state === "waiting" && f.running === null && f.dueAt !== null).map((f) => f.dueAt!);
  return due.length ? Math.min(...due) : null;
}
