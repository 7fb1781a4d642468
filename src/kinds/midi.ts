// `midi`: MIDI made from a separated stem (README, "What it keeps"). The notes travel inside the
// callback: `midi.json` keeps the `data` object as received, and `midi.mid` is a Standard MIDI File
// made from it (one track per instrument; times in seconds, `start`/`end` sometimes sent as
// strings). The task id is `task_id` at the top level (older pages: `taskId`, or inside `data`).

import { z } from "zod";
import { CONTENT_TYPES, fileKey, INLINE_CALLBACK_BYTES, type FileOffer, type Kind } from "./kind";
import { Code, failed, firstTaskId, Msg, parseWith, readRecordWith, RecordError, recordError, recordFrom, TaskId } from "./read";

/** Seconds, sent as a number or as a numeric string. */
const Seconds = z
  .union([z.number(), z.string()], { error: "must be a number of seconds" })
  .transform((v, ctx) => {
    const n = typeof v === "number" ? v : /^\s*\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n)) ctx.addIssue({ code: "custom", message: "must be a number of seconds" });
    return n;
  })
  .pipe(z.number().min(0, "must not be negative").max(86_400, "must be at most a day"));

const Note = z.object({
  pitch: z.number().int().min(0).max(127),
  start: Seconds,
  end: Seconds,
  velocity: z.number().min(0).max(127).nullish(),
});

/** What midi.mid is made from: instruments and their notes (other fields are kept in midi.json only). */
export const MidiData = z.object({
  state: z.string().nullish(),
  instruments: z.array(z.object({ name: z.string().max(200).nullish(), notes: z.array(Note).max(200_000) })).max(128),
});
export type MidiData = z.output<typeof MidiData>;

const Callback = z.object(
  {
    code: Code,
    msg: Msg,
    task_id: TaskId.optional(),
    taskId: TaskId.optional(),
    // Checked as MidiData below; kept as received for midi.json.
    data: z.record(z.string(), z.unknown()).nullish(),
  },
  { error: "the body must be a JSON object" },
);

const Record = z.object({
  successFlag: z.union([z.number(), z.string()]).nullish(),
  midiData: z.record(z.string(), z.unknown()).nullish(),
  ...RecordError,
});

const FLAGS: Record<string, string> = { "0": "PENDING", "1": "SUCCESS", "2": "CREATE_TASK_FAILED", "3": "GENERATE_MIDI_FAILED" };

/** midi.json (the data as received) and midi.mid (made from it), both from the same content. */
function offers(data: Record<string, unknown>): FileOffer[] {
  return [
    { name: "midi.json", role: "midi", track: null, contentType: CONTENT_TYPES.json, source: { inline: data } },
    { name: "midi.mid", role: "midi", track: null, contentType: CONTENT_TYPES.midi, source: { inline: data, convert: "midi" } },
  ];
}

export const midi: Kind = {
  name: "midi",
  callbackSchema: Callback,
  maxCallbackBytes: INLINE_CALLBACK_BYTES,
  recordInfoPath: "/api/v1/midi/record-info",

  parseCallback: (json) =>
    parseWith(Callback, json, ({ code, msg, task_id, taskId, data }) => {
      const nested = typeof data?.taskId === "string" ? data.taskId : typeof data?.task_id === "string" ? data.task_id : undefined;
      const id = firstTaskId(task_id, taskId, nested);
      if (id === undefined) return { ok: false, message: "task_id: is missing" };
      if (!TaskId.safeParse(id).success) return { ok: false, message: "data.taskId: must be 1-128 letters, digits, '_' or '-'" };
      if (code !== 200) return { ok: true, taskId: id, said: failed(code, msg) };
      const notes = MidiData.safeParse(data);
      if (!notes.success) {
        const issue = notes.error.issues[0]!;
        return { ok: false, message: `${["data", ...issue.path].join(".")}: ${issue.message}` };
      }
      return { ok: true, taskId: id, said: { type: "files", stage: "complete", files: offers(data!) } };
    }),

  readRecord: (data) =>
    readRecordWith(Record, data, (r) => {
      const raw = r.successFlag === null || r.successFlag === undefined ? "(none)" : String(r.successFlag);
      const flag = FLAGS[raw] ?? raw;
      const usable = r.midiData && MidiData.safeParse(r.midiData).success ? r.midiData : null;
      return recordFrom({
        flag,
        files: usable ? offers(usable) : [],
        pending: ["PENDING"],
        failures: ["CREATE_TASK_FAILED", "GENERATE_MIDI_FAILED"],
        error: recordError(flag, r.errorCode, r.errorMessage),
      });
    }),

  key: (taskId, name) => fileKey("midi", taskId, name),
};
