// `cover`: cover images for a music task (README, "What it keeps"): `cover-1.png`, `cover-2.png`, …
// from the callback's `data.images[]`. record-info's `successFlag` is a number (0 waiting, 1 done,
// 2 generating, 3 failed); one provider page spells it as words instead, so both are read.

import { z } from "zod";
import { CONTENT_TYPES, fileKey, URL_CALLBACK_BYTES, type FileOffer, type Kind } from "./kind";
import { envelope, failed, parseEnvelope, readRecordWith, RecordError, recordError, recordFrom, SourceUrl } from "./read";

const Images = z.array(SourceUrl).max(100).nullish();

const Callback = envelope({ images: Images }, "taskId");

const Record = z.object({ successFlag: z.union([z.number(), z.string()]).nullish(), response: z.object({ images: Images }).nullish(), ...RecordError });

/** The numbers and the words one page uses for them, as one vocabulary. */
const FLAGS: Record<string, string> = { "0": "PENDING", "1": "SUCCESS", "2": "GENERATING", "3": "GENERATE_COVER_FAILED" };

function offers(images: string[]): FileOffer[] {
  return images.map((url, i) => ({ name: `cover-${i + 1}.png`, role: "image", track: null, contentType: CONTENT_TYPES.png, source: { url } }));
}

export const cover: Kind = {
  name: "cover",
  callbackSchema: Callback,
  maxCallbackBytes: URL_CALLBACK_BYTES,
  recordInfoPath: "/api/v1/suno/cover/record-info",

  parseCallback: (json) =>
    parseEnvelope(Callback, json, "taskId", ({ code, msg, data }, taskId) => {
      if (code !== 200) return { ok: true, taskId, said: failed(code, msg) };
      if (!data.images || data.images.length === 0) return { ok: false, message: "data.images is missing from a success callback" };
      return { ok: true, taskId, said: { type: "files", stage: "complete", files: offers(data.images) } };
    }),

  readRecord: (data) =>
    readRecordWith(Record, data, (r) => {
      const raw = r.successFlag === null || r.successFlag === undefined ? "(none)" : String(r.successFlag);
      const flag = FLAGS[raw] ?? raw;
      return recordFrom({
        flag,
        files: offers(r.response?.images ?? []),
        pending: ["PENDING", "GENERATING"],
        failures: ["GENERATE_COVER_FAILED", "CREATE_TASK_FAILED"],
        // A successful record says errorCode 200: the flag is what tells.
        error: recordError(flag, r.errorCode === 200 ? null : r.errorCode, r.errorMessage),
      });
    }),

  key: (taskId, name) => fileKey("cover", taskId, name),
};
