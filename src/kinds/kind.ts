// What every kind of provider task has in common (README, "What it keeps"): the provider's
// products call back with the same {code, msg, data} envelope and signature, and each yields a
// list of files. A kind module (./wav.ts, ./music.ts, …) says where its task id is, how its callback
// and its record-info answer read, and which files they name; everything else — the shard, the
// runner, the cron, downloads, announcements, the dashboard — is generic over this interface.
// Pure: zod schemas and functions, no I/O.

import type { z } from "zod";

export const KIND_NAMES = ["wav", "music", "stems", "video", "cover", "midi", "lyrics"] as const;
export type KindName = (typeof KIND_NAMES)[number];

export const FILE_ROLES = ["wav", "audio", "image", "stem", "video", "midi", "lyrics"] as const;
export type FileRole = (typeof FILE_ROLES)[number];

export interface TaskError {
  code: string;
  message: string;
}

/** How far the provider got with a task: music tasks pass text → first → complete. */
export type Stage = "text" | "first" | "complete";

/**
 * Where a file's bytes come from: a URL the provider serves, or content the callback (or the
 * record-info answer) carried itself, which the worker first keeps under its own R2 key.
 * `convert: "midi"` makes a Standard MIDI File of that content instead of copying it.
 */
export type FileSource = { url: string } | { staged: string; convert?: "midi" };

/** A file the provider named, as a callback or a record-info answer names it. */
export interface FileOffer {
  name: string;
  role: FileRole;
  /** The music track id, for music files; else null. */
  track: string | null;
  contentType: string;
  /** A URL, or (before it is staged) the inline content itself. */
  source: { url: string } | { inline: unknown; convert?: "midi" };
}

/** What the provider said about a task, in a callback or a record-info answer. */
export type ProviderSaid =
  /** Files (all of them at `complete`; the first track's at music's `first`), or none yet (`text`). */
  | { type: "files"; stage: Stage; files: FileOffer[] }
  | { type: "failed"; error: TaskError };

/** A record-info answer about one task. */
export type RecordSaid =
  | { status: "said"; said: ProviderSaid; flag: string }
  /** Still working on it. */
  | { status: "pending"; flag: string }
  /** Nothing usable about this one task (`data: null`, a success flag without files, …). */
  | { status: "unknown"; message: string };

export type CallbackParse = { ok: true; taskId: string; said: ProviderSaid } | { ok: false; message: string };

export interface Kind {
  readonly name: KindName;
  /** Callbacks carrying content inline (MIDI, lyrics) may be larger than URL-only ones. */
  readonly maxCallbackBytes: number;
  /** A callback body (already JSON) → its task id and what it says, or why it is not one. */
  parseCallback(json: unknown): CallbackParse;
  /** The zod schema parseCallback validates with: the OpenAPI document describes the body from it. */
  readonly callbackSchema: z.ZodType;
  /** `GET {SUNO_API_BASE}{recordInfoPath}?taskId=<id>` polls a task of this kind. */
  readonly recordInfoPath: string;
  /** record-info's `data` about task `taskId` → what it says about the task. */
  readRecord(data: unknown, taskId: string): RecordSaid;
  /** The R2 key of one of a task's files. */
  key(taskId: string, name: string): string;
}

/** 64 KiB for callbacks that only carry URLs (README, "Routes"). */
export const URL_CALLBACK_BYTES = 64 * 1024;
/** 1 MiB for callbacks that carry their content (MIDI notes, lyrics). */
export const INLINE_CALLBACK_BYTES = 1024 * 1024;

export const CONTENT_TYPES = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  mp4: "video/mp4",
  json: "application/json",
  midi: "audio/midi",
} as const;

/** `<kind>/<taskId>/<name>`: the key of every file but the WAV's (./wav.ts keeps its own). */
export function fileKey(kind: KindName, taskId: string, name: string): string {
  return `${kind}/${taskId}/${name}`;
}
