// `lyrics`: generated lyrics (README, "What it keeps"). The text travels inside the callback:
// `lyrics.json` keeps its `data.data[]` items `{text, title, status, errorMessage}` (one provider
// spells it `error_message`; kept as `errorMessage`). A failure may come as `callbackType`
// "complete" with a code other than 200, so the code decides.

import { z } from "zod";
import { CONTENT_TYPES, fileKey, INLINE_CALLBACK_BYTES, type FileOffer, type Kind } from "./kind";
import { envelope, failed, parseEnvelope, readRecordWith, RecordError, recordError, recordFrom } from "./read";

const Item = z
  .object({
    text: z.string().nullish(),
    title: z.string().nullish(),
    status: z.string().nullish(),
    errorMessage: z.string().nullish(),
    error_message: z.string().nullish(),
  })
  .transform(({ error_message, errorMessage, ...rest }) => ({ ...rest, errorMessage: errorMessage ?? error_message ?? null }));

const Callback = envelope({ callbackType: z.string().nullish(), data: z.array(Item).max(100).nullish() }, "taskId");

const Record = z.object({
  status: z.string().nullish(),
  response: z.object({ data: z.array(Item).max(100).nullish() }).nullish(),
  ...RecordError,
});

function offers(items: z.output<typeof Item>[]): FileOffer[] {
  return [{ name: "lyrics.json", role: "lyrics", track: null, contentType: CONTENT_TYPES.json, source: { inline: items } }];
}

export const lyrics: Kind = {
  name: "lyrics",
  callbackSchema: Callback,
  maxCallbackBytes: INLINE_CALLBACK_BYTES,
  recordInfoPath: "/api/v1/lyrics/record-info",

  parseCallback: (json) =>
    parseEnvelope(Callback, json, "taskId", ({ code, msg, data }, taskId) => {
      if (code !== 200 || data.callbackType === "error" || !data.data) return { ok: true, taskId, said: failed(code === 200 ? "error" : code, msg) };
      if (data.data.length === 0) return { ok: true, taskId, said: failed("no_lyrics", "the provider's callback carries no lyrics") };
      return { ok: true, taskId, said: { type: "files", stage: "complete", files: offers(data.data) } };
    }),

  readRecord: (data) =>
    readRecordWith(Record, data, (r) => {
      const flag = r.status ?? "(none)";
      const items = r.response?.data;
      return recordFrom({
        flag,
        files: items && items.length > 0 ? offers(items) : [],
        pending: ["PENDING"],
        failures: ["CREATE_TASK_FAILED", "GENERATE_LYRICS_FAILED", "SENSITIVE_WORD_ERROR"],
        error: recordError(flag, r.errorCode, r.errorMessage),
      });
    }),

  key: (taskId, name) => fileKey("lyrics", taskId, name),
};
