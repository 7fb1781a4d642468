// `stems`: vocal separation and stem splitting (README, "What it keeps"). One `<stem>.mp3` per
// non-empty `<stem>_url` of the callback's `vocal_removal_info` (older pages: `vocal_separation_info`)
// — vocal, instrumental, backing_vocals, drums, bass, guitar, piano, keyboard, percussion, strings,
// synth, fx, brass, woodwinds, origin; record-info spells the same keys in camelCase (`drumsUrl`).

import { z } from "zod";
import { CONTENT_TYPES, fileKey, URL_CALLBACK_BYTES, type FileOffer, type Kind } from "./kind";
import { envelope, failed, MaybeUrl, parseEnvelope, readRecordWith, RecordError, recordError, recordFrom } from "./read";

/** `<stem>_url` (callback) or `<stem>Url` (record-info), for a stem name of letters and underscores. */
const CALLBACK_KEY = /^([a-z][a-z_]{0,40})_url$/;
const RECORD_KEY = /^([a-z][a-zA-Z]{0,40})Url$/;

/** Every `*_url` / `*Url` value is a URL or nothing; other keys (ids, originData) are left alone. */
const Info = z.record(z.string(), z.unknown()).nullish();

const Callback = envelope({ vocal_removal_info: Info, vocal_separation_info: Info });

const Record = z.object({ successFlag: z.string().nullish(), response: Info, ...RecordError });

/** The stems an info object names, as files; null when a URL there is not one. */
function stemFiles(info: Record<string, unknown>, pattern: RegExp): FileOffer[] | { problem: string } {
  const files: FileOffer[] = [];
  for (const [key, value] of Object.entries(info)) {
    const m = pattern.exec(key);
    if (!m) continue;
    const url = MaybeUrl.safeParse(value);
    if (!url.success) return { problem: `${key}: must be an http(s) URL` };
    if (url.data === null) continue;
    const stem = m[1]!.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`); // backingVocals → backing_vocals
    files.push({ name: `${stem}.mp3`, role: "stem", track: null, contentType: CONTENT_TYPES.mp3, source: { url: url.data } });
  }
  return files;
}

export const stems: Kind = {
  name: "stems",
  callbackSchema: Callback,
  maxCallbackBytes: URL_CALLBACK_BYTES,
  recordInfoPath: "/api/v1/vocal-removal/record-info",

  parseCallback: (json) =>
    parseEnvelope(Callback, json, "task_id", ({ code, msg, data }, taskId) => {
      if (code !== 200) return { ok: true, taskId, said: failed(code, msg) };
      const info = data.vocal_removal_info ?? data.vocal_separation_info;
      if (!info) return { ok: false, message: "data.vocal_removal_info is missing from a success callback" };
      const files = stemFiles(info, CALLBACK_KEY);
      if ("problem" in files) return { ok: false, message: `data.vocal_removal_info.${files.problem}` };
      if (files.length === 0) return { ok: false, message: "data.vocal_removal_info names no stem" };
      return { ok: true, taskId, said: { type: "files", stage: "complete", files } };
    }),

  readRecord: (data) =>
    readRecordWith(Record, data, (r) => {
      const flag = r.successFlag ?? "(none)";
      const files = r.response ? stemFiles(r.response, RECORD_KEY) : [];
      if ("problem" in files) return { status: "unknown", message: `the provider's record has an unusable ${files.problem.split(":")[0]}` };
      return recordFrom({
        flag,
        files,
        pending: ["PENDING"],
        failures: ["CREATE_TASK_FAILED", "GENERATE_AUDIO_FAILED"],
        error: recordError(flag, r.errorCode, r.errorMessage),
      });
    }),

  key: (taskId, name) => fileKey("stems", taskId, name),
};
