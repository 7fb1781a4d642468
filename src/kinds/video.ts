// `video`: a music video (README, "What it keeps"): `video.mp4` from the callback's `video_url`.

import { z } from "zod";
import { CONTENT_TYPES, fileKey, URL_CALLBACK_BYTES, type FileOffer, type Kind } from "./kind";
import { Code, failed, firstTaskId, Loose, MaybeUrl, Msg, parseWith, readRecordWith, recordError, recordFrom, TaskId } from "./read";

const Callback = z.object(
  {
    code: Code,
    msg: Msg,
    data: z.object({ task_id: TaskId.optional(), taskId: TaskId.optional(), video_url: MaybeUrl }, { error: "must be an object with task_id" }),
  },
  { error: "the body must be a JSON object" },
);

const Record = z.object({
  successFlag: z.string().nullish(),
  response: z.object({ videoUrl: MaybeUrl }).nullish(),
  errorCode: Loose,
  errorMessage: z.string().nullish(),
});

function offer(url: string): FileOffer {
  return { name: "video.mp4", role: "video", track: null, contentType: CONTENT_TYPES.mp4, source: { url } };
}

export const video: Kind = {
  name: "video",
  callbackSchema: Callback,
  maxCallbackBytes: URL_CALLBACK_BYTES,
  recordInfoPath: "/api/v1/mp4/record-info",

  parseCallback: (json) =>
    parseWith(Callback, json, ({ code, msg, data }) => {
      const taskId = firstTaskId(data.task_id, data.taskId);
      if (taskId === undefined) return { ok: false, message: "data.task_id: is missing" };
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
