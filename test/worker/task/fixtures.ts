// Tasks for the pure modules' tests, made by the machine itself from a list of events.
import type { FileRole, KindName, Stage } from "../../../src/kinds/kind";
import { apply, type MachineContext, type StagedOffer, type StoredFile, type Task, type TaskEvent, type TaskFile } from "../../../src/task/machine";

export const T0 = 1_700_000_000_000;
let ids = 0;
export const ctx: MachineContext = { overdueAfterMs: 300_000, maxAgeMs: 86_400_000, retentionMs: 1_123_200_000, notify: false, newMessageId: () => `msg_${++ids}` };
export const notifying: MachineContext = { ...ctx, notify: true };

/** The WAV of task "a": its one file's name and what storing it gave. */
export const WAV = "a.wav";
export const wav: StoredFile = { key: "wav/a.wav", size: 10, sha256: "ab".repeat(32), contentType: "audio/wav" };

/** The provider's WAV URL for task "a", as a verified callback (or a poll, signedAt null) offers it. */
export function wavOffer(url: string, signedAt: number | null = null): Extract<TaskEvent, { type: "offered" }> {
  return {
    type: "offered",
    kind: "wav",
    stage: "complete",
    files: [{ name: WAV, role: "wav", track: null, contentType: "audio/wav", source: { url } }],
    signedAt,
  };
}

/** A music track's MP3 and cover art offered at `https://cdn.test/<id>.mp3` and `.jpeg`. */
export function trackFiles(id: string, host = "cdn.test"): StagedOffer[] {
  return [
    { name: `${id}.mp3`, role: "audio", track: id, contentType: "audio/mpeg", source: { url: `https://${host}/${id}.mp3` } },
    { name: `${id}.jpeg`, role: "image", track: id, contentType: "image/jpeg", source: { url: `https://${host}/${id}.jpeg` } },
  ];
}

/** The music provider's callback at `stage`, naming these tracks. */
export function musicOffer(stage: Stage, tracks: string[], signedAt: number | null = null): Extract<TaskEvent, { type: "offered" }> {
  return { type: "offered", kind: "music", stage, files: tracks.flatMap((id) => trackFiles(id)), signedAt };
}

/** An offer of files of `kind`, each from a URL `https://cdn.test/<name>`, or staged content. */
export function filesOffer(kind: KindName, names: string[], role: FileRole = "stem"): Extract<TaskEvent, { type: "offered" }> {
  return {
    type: "offered",
    kind,
    stage: "complete",
    files: names.map((name) => ({ name, role, track: null, contentType: "audio/mpeg", source: { url: `https://cdn.test/${name}` } })),
  };
}

/** What storing `name` of a task of `kind` gave. */
export function storedAs(name: string, kind: KindName = "music", size = 100): StoredFile {
  return { key: kind === "wav" ? `wav/${name}` : `${kind}/a/${name}`, size, sha256: "cd".repeat(32), contentType: "audio/mpeg" };
}

/** The task after `events`, each at T0 + its index (ms), under `c`. */
export function taskAfter(events: TaskEvent[], c: MachineContext = ctx): Task {
  return events.reduce<Task | null>((t, e, i) => apply(t, "a", e, T0 + i, c), null)!;
}

/** Task "a"'s file `name` (the WAV by default). */
export function fileOf(t: Task, name = WAV): TaskFile {
  const f = t.files.find((x) => x.name === name);
  if (!f) throw new Error(`task ${t.taskId} has no file ${name}`);
  return f;
}

/** The epoch of the attempt running for `name` (after its transferStarted). */
export function epochOf(t: Task, name = WAV): number {
  const running = fileOf(t, name).running;
  if (!running) throw new Error(`no attempt runs for ${name}`);
  return running.epoch;
}

/** Applies `e` to `t` at `at` (task "a"): the task after it. */
export function step(t: Task | null, e: TaskEvent, at: number, c: MachineContext = ctx): Task {
  return apply(t, "a", e, at, c)!;
}

/** Starts an attempt for `name` at `at` and answers it with success. */
export function storeFile(t: Task, name: string, at: number, stored: StoredFile = storedAs(name), c: MachineContext = ctx): Task {
  const started = step(t, { type: "transferStarted", file: name }, at, c);
  return step(started, { type: "transferSucceeded", file: name, epoch: epochOf(started, name), stored }, at, c);
}

/** Starts an attempt for `name` at `at` and answers it with a failure. */
export function failFile(t: Task, name: string, at: number, code: string, retryable: boolean, c: MachineContext = ctx): Task {
  const started = step(t, { type: "transferStarted", file: name }, at, c);
  return step(started, { type: "transferFailed", file: name, epoch: epochOf(started, name), error: { code, message: `${code} happened` }, retryable }, at, c);
}
