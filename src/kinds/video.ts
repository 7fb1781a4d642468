// `video`: a music video (README, "What it keeps"): `video.mp4` from the callback's `video_url`.

import { z } from "zod";
import { CONTENT_TYPES, fileKey, URL_CALLBACK_BYTES, type FileOffer, type Kind } from "./kind";
import { envelope, failed, MaybeUrl, parseEnvelope, readRecordWith, RecordError, recordError, recordFrom } from "./read";

const Callback = envelope({ video_url: MaybeUrl });

const Record = z.object({ successFlag: z.string().nullish(), response: z.object({ videoUrl: MaybeUrl }).nullish(), ...RecordError });

function offer(url: string): FileOffer {
  return { name: "video.mp4", role: "video", track: null, contentType: CONTENT_TYPES.mp4, source: { url } };
}

export const video: Kind = {
  name: "video",
  callbackSchema: Callback,
  maxCallbackBytes: URL_CALLBACK_BYTES,
  recordInfoPath: "/api/v1/mp4/record-info",

  parseCallback: (json) =>
    parseEnvelope(Callback, json, "task_id", ({ code, msg, data }, taskId) => {
      if (code !== 200) return { ok: true, taskId, said: failed(code, msg) };
      if (!data.video_url) return { ok: false, message: "data.video_url is missing from a success callback" };
      return { ok: true, taskId, said: { type: "files", stage: "complete", files: [offer(data.video_url)] } };
    }),

  readRecord: (data) =>
    readRecordWith(Record, data, (r) => {
      const flag = r.successFlag ?? "(none)";
      const url = r.response?.videoUrl;
      return recordFrom({
        flag,
        files: url ? [offer(url)] : [],
        pending: ["PENDING"],
        failures: ["CREATE_TASK_FAILED", "GENERATE_MP4_FAILED"],
        error: recordError(flag, r.errorCode, r.errorMessage),
      });
    }),

  key: (taskId, name) => fileKey("video", taskId, name),
};
