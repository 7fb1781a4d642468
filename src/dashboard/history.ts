// A task's history entry (GET /api/tasks/:taskId/events; README, "Notifications (tell your app)",
// "History") as one sentence a person reads on the task page, e.g. "Transfer attempt 2 failed:
// the source answered 404 — next try in 2 min". Pure: the entry and "now" in, words out. Every
// type the worker writes has its own wording; a type or a field this code does not know still
// reads as a sentence (never raw JSON), so an older dashboard can show a newer worker's history.

import { formatBytes } from "./format";
import { KIND_WORDS } from "./kinds";
import { duration, parseTime, relativeTime } from "./time";

/** One history entry as the API lists it: `at`, `type`, and the type's details. */
export interface HistoryEntryJson {
  at: string;
  type: string;
  [detail: string]: unknown;
}

/** How the page marks an entry: something went wrong, something went right, or neither. */
export type Tone = "bad" | "good" | "neutral";

/** The provider's failure codes in its callbacks (README, "Task lifecycle and the cron"). */
const PROVIDER_CODES: Record<string, string> = {
  "400": "bad parameters or an unsupported source",
  "451": "the source audio could not be downloaded",
};

/** What went wrong with a transfer or a task, by the worker's error codes. */
const ERROR_CODES: Record<string, string> = {
  source_http_error: "the source answered with an HTTP error",
  source_unreachable: "the source could not be reached",
  source_stalled: "the source stopped sending",
  source_interrupted: "the source's body broke off",
  truncated: "the source sent fewer bytes than it declared",
  length_mismatch: "the source sent more bytes than it declared",
  too_many_redirects: "the source redirected too many times",
  source_refused: "the URL is not allowed (WAV_SOURCE_HOSTS or a private address)",
  not_a_wav: "what the source sent is not a WAV",
  not_mp3: "what the source sent is not an MP3",
  not_jpeg: "what the source sent is not a JPEG image",
  not_png: "what the source sent is not a PNG image",
  not_mp4: "what the source sent is not an MP4 video",
  not_midi_notes: "the MIDI content holds no notes in the documented form",
  staged_missing: "the content the callback carried is no longer in R2",
  too_large: "the file is larger than the size limit (MAX_WAV_BYTES / MAX_FILE_BYTES)",
  storage_failed: "writing to R2 failed",
  interrupted: "the attempt was cut short (its isolate stopped)",
  runner_unreachable: "the transfer could not be started",
  expired: "the provider gave no result within TASK_MAX_AGE_SECONDS",
  provider_no_result: "the provider had nothing usable about this task",
};

/** record-info's successFlag (or status) in words, for a WAV task. */
const FLAGS: Record<string, string> = {
  PENDING: "still converting",
  SUCCESS: "the WAV is ready",
  CALLBACK_EXCEPTION: "the WAV is ready (its callback to this worker had failed)",
  CREATE_TASK_FAILED: "the task could not be created",
  GENERATE_WAV_FAILED: "the conversion failed",
  UNKNOWN: "nothing usable about this task",
};

/** The same for every other kind: each product's flags (README, "What it keeps"). */
const KIND_FLAGS: Record<string, string> = {
  PENDING: "still working on it",
  GENERATING: "still working on it",
  TEXT_SUCCESS: "the lyrics are written, no track yet",
  FIRST_SUCCESS: "the first track is ready",
  SUCCESS: "the files are ready",
  CALLBACK_EXCEPTION: "the files are ready (its callback to this worker had failed)",
  CREATE_TASK_FAILED: "the task could not be created",
  GENERATE_AUDIO_FAILED: "the generation failed",
  GENERATE_MP4_FAILED: "the video could not be made",
  GENERATE_COVER_FAILED: "the cover images could not be made",
  GENERATE_MIDI_FAILED: "the MIDI could not be made",
  GENERATE_LYRICS_FAILED: "the lyrics could not be written",
  SENSITIVE_WORD_ERROR: "refused: the prompt has words it does not accept",
  UNKNOWN: "nothing usable about this task",
};

/** What failed, by kind: "the conversion failed" (a WAV), "the generation failed" (music), … */
const KIND_FAILED: Record<string, string> = {
  wav: "the conversion failed",
  music: "the generation failed",
  stems: "the separation failed",
  video: "the video could not be made",
  cover: "the cover images could not be made",
  midi: "the MIDI could not be made",
  lyrics: "the lyrics could not be written",
};

/** What a success callback brought, by kind and music stage. */
function callbackSaid(kind: string, stage: string | null, files: number | null, host: string | null): string {
  const at = host ? ` at ${host}` : "";
  const count = files === null ? "" : ` (${files} file${files === 1 ? "" : "s"})`;
  if (kind === "wav") return `the WAV is ready${at}`;
  if (stage === "text") return "the lyrics are written; no track yet";
  if (stage === "first") return `the first track is ready${at}${count}`;
  if (host === null) return `the result came inside the callback${count}`;
  const ready = kind === "music" ? "every track is ready" : files === 1 ? "the file is ready" : "the files are ready";
  return `${ready}${at}${count}`;
}

/** A detail as text, without a trailing full stop (it goes inside a sentence); null when absent. */
const str = (v: unknown): string | null => {
  const text = typeof v === "string" ? v.trim().replace(/[.\s]+$/, "") : typeof v === "number" ? String(v) : "";
  return text === "" ? null : text;
};
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : null);

/** What went wrong with a file, in words: "the source answered 404", "what the source sent is not an MP3". */
export function problemInWords(code: string | null, message: string | null): string {
  return transferProblem(str(code), str(message));
}

/** "the source answered 404" from a worker message like "source answered HTTP 404", else the code in words. */
function transferProblem(code: string | null, message: string | null): string {
  const status = message ? /answered (?:HTTP )?(\d{3})\b/.exec(message)?.[1] : undefined;
  if (status && (code === null || code === "source_http_error")) return `the source answered ${status}`;
  if (code !== null && code in ERROR_CODES) return ERROR_CODES[code]!;
  if (message) return message;
  return code ? `error ${code}` : "for an unknown reason";
}

/** A failure the provider reported: "code 451: source audio download failed". */
function providerFailure(code: string | null, message: string | null): string {
  const what = message ?? (code !== null ? PROVIDER_CODES[code] : undefined) ?? null;
  if (code === null) return what ?? "no reason given";
  return what ? `code ${code}: ${what}` : `code ${code}`;
}

/** "— next try in 2 min" (or "… was planned 2 min later" once that time has passed). */
function nextTry(at: number | null, next: unknown, now: number): string {
  const when = parseTime(next);
  if (when === null) return "";
  if (when > now) return ` — next try ${relativeTime(when, now)}`;
  return at === null ? " — retried since" : ` — next try was ${duration(when - at)} later`;
}

/** "Transfer attempt 2", "Transfer attempt 2 of cover-1.png" (a file of a task with several). */
function attemptName(attempt: number | null, file: string | null): string {
  const of = file ? ` of ${file}` : "";
  return attempt === null ? `A transfer attempt${of}` : `Transfer attempt ${attempt}${of}`;
}

/** A file's name for a sentence: only for kinds other than WAV (a WAV task has one file). */
function fileOf(e: HistoryEntryJson, kind: string): string | null {
  return kind === "wav" ? null : str(e.file);
}

/**
 * The sentence for one history entry, as of `now` (epoch ms), for a task of `kind` (default wav:
 * the entries do not say which kind their task is).
 */
export function describeEvent(e: HistoryEntryJson, now: number, kind = "wav"): string {
  const at = parseTime(e.at);
  switch (e.type) {
    case "registered": {
      const music = e.music as { taskId?: unknown; audioId?: unknown } | null | undefined;
      const track = music && str(music.taskId) && str(music.audioId) ? ` for track ${str(music.audioId)} of music task ${str(music.taskId)}` : "";
      const as = kind !== "wav" && KIND_WORDS[kind] ? ` as a ${KIND_WORDS[kind]} task` : "";
      return `Registered${as}${track}: waiting for the provider's callback (the cron asks the provider if it is late).`;
    }

    case "callback": {
      const code = str(e.code);
      const host = str(e.host);
      const failed = KIND_FAILED[kind] ?? "the task failed";
      const said = code === "200" ? callbackSaid(kind, str(e.stage), num(e.files), host) : `${failed} (${providerFailure(code, null)})`;
      switch (e.outcome) {
        case "applied":
          return `The provider called back: ${said}.`;
        case "duplicate":
          return `The provider called back again with the same result (${said}); nothing changed.`;
        case "ignored":
          return `The provider called back (${said}), but that changed nothing: the task had already moved on.`;
        case "signature_reused":
          return `A callback reused the signature of an earlier one with a different result and was refused (409).`;
        default:
          return `The provider called back: ${said}.`;
      }
    }

    case "poll": {
      const error = str(e.error);
      if (error) return `Asked the provider (record-info), with no usable answer: ${error}.`;
      const flag = str(e.flag);
      if (flag === null) return "Asked the provider (record-info).";
      const words = (kind === "wav" ? FLAGS : KIND_FLAGS)[flag];
      return `Asked the provider (record-info): ${words ?? `it says ${flag}`}.`;
    }

    case "transfer_started": {
      const host = str(e.host);
      // A file without a host is content the callback carried, kept in R2 first.
      const from = host ? `, from ${host}` : kind !== "wav" ? ", from the content the callback carried" : "";
      return `${attemptName(num(e.attempt), fileOf(e, kind))} started${from}.`;
    }

    case "transfer_failed": {
      const why = transferProblem(str(e.code), str(e.message));
      const name = attemptName(num(e.attempt), fileOf(e, kind));
      if (e.retryable === false) return `${name} failed for good: ${why}.`;
      return `${name} failed: ${why}${nextTry(at, e.nextAttemptAt, now)}.`;
    }

    case "file_stored": {
      const file = str(e.file);
      return `Stored ${file ?? "a file"} in R2${sizeAndHash(e)}.`;
    }

    case "stored": {
      const files = num(e.files);
      if (files !== null && str(e.sha256) === null) {
        const size = num(e.size);
        return `Stored: all ${files} files are in R2${size !== null ? `, ${formatBytes(size)} in all` : ""}.`;
      }
      return `Stored in R2${sizeAndHash(e)}.`;
    }

    case "failed": {
      const code = str(e.code);
      const message = str(e.message);
      if (code !== null && /^\d+$/.test(code)) return `Failed: the provider reported a failure (${providerFailure(code, message)}).`;
      if (code === "expired" && message) return `Failed: ${message}.`;
      // A task of several files names the one that could not be stored: "cover-1.png: …".
      const named = kind !== "wav" && message ? /^([A-Za-z0-9_-][A-Za-z0-9._-]*\.[A-Za-z0-9]+): (.*)$/.exec(message) : null;
      const rest = named ? (str(named[2]) ?? null) : message;
      const why = code !== null && code in ERROR_CODES ? transferProblem(code, rest) : (rest ?? (code ? `error ${code}` : "no reason given"));
      const gaveUp = rest ? /gave up after (\d+) attempts/.exec(rest) : null;
      const file = named ? `${named[1]} could not be stored — ` : "";
      return `Failed: ${file}${why}${gaveUp ? ` — gave up after ${gaveUp[1]} attempts, at the end of the provider's retention (PROVIDER_RETENTION_SECONDS)` : ""}.`;
    }

    case "retry_requested": {
      const state = str(e.state);
      const how = e.bulk === true ? " with Retry all failed" : " by hand";
      return `Retry requested${how}${state ? ` (the task was ${state})` : ""}.`;
    }

    case "notification": {
      const attempt = num(e.attempt);
      const status = num(e.status);
      const answer = status !== null ? `it answered ${status}` : str(e.message) ? str(e.message)! : "no answer";
      const n = attempt === null ? "" : ` (attempt ${attempt})`;
      switch (e.outcome) {
        case "delivered":
          return `Your app was told${n}: ${answer}.`;
        case "failed":
          return `Gave up telling your app${n}: ${answer}.`;
        default:
          return `Telling your app failed${n}: ${answer}${nextTry(at, e.nextAttemptAt, now)}.`;
      }
    }

    default:
      return unknownEntry(e);
  }
}

/** ": 2.0 KiB (2,048 bytes), SHA-256 …", from an entry's size and sha256 (empty without them). */
function sizeAndHash(e: HistoryEntryJson): string {
  const size = num(e.size);
  const sha = str(e.sha256);
  const parts = [size !== null ? `${formatBytes(size)} (${size.toLocaleString("en-US")} bytes)` : null, sha ? `SHA-256 ${sha}` : null].filter(Boolean);
  return parts.length ? `: ${parts.join(", ")}` : "";
}

/** An entry of a type this dashboard does not know: its name and details, still as words. */
function unknownEntry(e: HistoryEntryJson): string {
  const name = typeof e.type === "string" && e.type !== "" ? e.type.replace(/[_-]+/g, " ") : "something";
  const details = Object.entries(e)
    .filter(([k, v]) => k !== "at" && k !== "type" && v !== null && v !== undefined)
    .map(([k, v]) => `${k.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()} ${typeof v === "object" ? "(details)" : String(v).slice(0, 120)}`);
  const text = `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  return details.length ? `${text}: ${details.join(", ")}.` : `${text}.`;
}

/** Whether the entry reports trouble, success, or neither (for the page's marker colour). */
export function eventTone(e: HistoryEntryJson): Tone {
  switch (e.type) {
    case "stored":
      return "good";
    case "failed":
    case "transfer_failed":
      return "bad";
    case "callback":
      return e.outcome === "signature_reused" || (e.outcome === "applied" && str(e.code) !== "200") ? "bad" : "neutral";
    case "poll":
      return str(e.error) ? "bad" : "neutral";
    case "notification":
      return e.outcome === "delivered" ? "good" : "bad";
    default:
      return "neutral";
  }
}
