// `wav`: "Convert to WAV" tasks (README, "What it keeps"). One file, `<taskId>.wav`, kept under
// `wav/<taskId>.wav` as it always was.

import { z } from "zod";
import { CONTENT_TYPES, URL_CALLBACK_BYTES, type FileOffer, type Kind } from "./kind";
import { envelope, failed, MaybeUrl, parseEnvelope, readRecordWith, RecordError, recordError, recordFrom } from "./read";

const Callback = envelope({ audioWavUrl: MaybeUrl, audio_wav_url: MaybeUrl });

const Record = z.object({
  // An undocumented flag is read as "no usable answer about this task", not as provider trouble.
  successFlag: z.string().nullish(),
  response: z.object({ audioWavUrl: MaybeUrl, audio_wav_url: MaybeUrl }).nullish(),
  ...RecordError,
});

function offer(taskId: string, url: string): FileOffer {
  return { name: `${taskId}.wav`, role: "wav", track: null, contentType: CONTENT_TYPES.wav, source: { url } };
}

export const wav: Kind = {
  name: "wav",
  callbackSchema: Callback,
  maxCallbackBytes: URL_CALLBACK_BYTES,
  recordInfoPath: "/api/v1/wav/record-info",

  parseCallback: (json) =>
    parseEnvelope(Callback, json, "task_id", ({ code, msg, data }, taskId) => {
      if (code !== 200) return { ok: true, taskId, said: failed(code, msg) };
      const url = data.audioWavUrl ?? data.audio_wav_url;
      if (!url) return { ok: false, message: "data.audioWavUrl is missing from a success callback" };
      return { ok: true, taskId, said: { type: "files", stage: "complete", files: [offer(taskId, url)] } };
    }),

  readRecord: (data, taskId) =>
    readRecordWith(Record, data, (r) => {
      const flag = r.successFlag ?? "(none)";
      const url = r.response?.audioWavUrl ?? r.response?.audio_wav_url;
      return recordFrom({
        flag,
        files: url ? [offer(taskId, url)] : [],
        pending: ["PENDING"],
        failures: ["CREATE_TASK_FAILED", "GENERATE_WAV_FAILED"],
        error: recordError(flag, r.errorCode, r.errorMessage),
      });
    }),

  key: (taskId) => `wav/${taskId}.wav`,
};
