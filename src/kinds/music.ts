// `music`: generations and everything that makes tracks the same way — extend, upload-and-cover,
// upload-and-extend, add instrumental, add vocals, replace section (README, "What it keeps").
// Each track is `<trackId>.mp3` (its `audio_url`) and `<trackId>.jpeg` (its cover art, `image_url`);
// `stream_audio_url` is a preview and is not kept. The provider calls back in stages: `text` (no
// files yet), `first` (the first track), `complete` (every track), or `error`.

import { z } from "zod";
import { CONTENT_TYPES, fileKey, URL_CALLBACK_BYTES, type FileOffer, type Kind, type Stage } from "./kind";
import { envelope, failed, MaybeUrl, NAME_PART, parseEnvelope, readRecordWith, RecordError, recordError, recordFrom } from "./read";

const TrackId = z.string().regex(NAME_PART, "must be 1-128 letters, digits, '_' or '-'");

const CallbackTrack = z.object({ id: TrackId, audio_url: MaybeUrl, image_url: MaybeUrl });

/** Tracks per task: the provider makes two; more than this is not a generation's answer. */
const MAX_TRACKS = 20;

const Callback = envelope({ callbackType: z.string().nullish(), data: z.array(CallbackTrack).max(MAX_TRACKS).nullish(), error: z.string().nullish() });

const Record = z.object({
  status: z.string().nullish(),
  response: z.object({ sunoData: z.array(z.object({ id: TrackId, audioUrl: MaybeUrl, imageUrl: MaybeUrl })).max(MAX_TRACKS).nullish() }).nullish(),
  ...RecordError,
});

/** A track's files: its MP3 and its cover art, whichever the provider gave a URL for. */
function trackFiles(id: string, audioUrl: string | null, imageUrl: string | null): FileOffer[] {
  const files: FileOffer[] = [];
  if (audioUrl) files.push({ name: `${id}.mp3`, role: "audio", track: id, contentType: CONTENT_TYPES.mp3, source: { url: audioUrl } });
  if (imageUrl) files.push({ name: `${id}.jpeg`, role: "image", track: id, contentType: CONTENT_TYPES.jpeg, source: { url: imageUrl } });
  return files;
}

const STAGES: readonly string[] = ["text", "first", "complete"];

export const music: Kind = {
  name: "music",
  callbackSchema: Callback,
  maxCallbackBytes: URL_CALLBACK_BYTES,
  recordInfoPath: "/api/v1/generate/record-info",

  parseCallback: (json) =>
    parseEnvelope(Callback, json, "task_id", ({ code, msg, data }, taskId) => {
      const type = data.callbackType ?? "complete";
      if (code !== 200 || type === "error") return { ok: true, taskId, said: failed(code === 200 ? "error" : code, data.error || msg) };
      if (!STAGES.includes(type)) return { ok: false, message: `data.callbackType: ${JSON.stringify(type.slice(0, 20))} is not text, first, complete or error` };
      const files = (data.data ?? []).flatMap((t) => trackFiles(t.id, t.audio_url, t.image_url));
      if (type !== "text" && files.length === 0) return { ok: false, message: `data.data: a ${type} callback names no track with a file` };
      return { ok: true, taskId, said: { type: "files", stage: type as Stage, files } };
    }),

  readRecord: (data) =>
    readRecordWith(Record, data, (r) => {
      const flag = r.status ?? "(none)";
      return recordFrom({
        flag,
        files: (r.response?.sunoData ?? []).flatMap((t) => trackFiles(t.id, t.audioUrl, t.imageUrl)),
        stage: flag === "FIRST_SUCCESS" ? "first" : "complete",
        // TEXT_SUCCESS: the lyrics are written, no track yet.
        pending: ["PENDING", "TEXT_SUCCESS", "FIRST_SUCCESS"],
        failures: ["CREATE_TASK_FAILED", "GENERATE_AUDIO_FAILED", "SENSITIVE_WORD_ERROR"],
        error: recordError(flag, r.errorCode, r.errorMessage),
      });
    }),

  key: (taskId, name) => fileKey("music", taskId, name),
};
