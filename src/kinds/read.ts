// Reading the provider's answers: the pieces every kind's callback and record-info schemas share.
// Lenient where the provider's docs disagree with each other (task_id / taskId, numbers sent as
// strings, "" or null for "no URL"), strict where a value becomes a key, a path or a request.

import { z } from "zod";
import { firstIssue } from "../lib/issues";
import { TASK_ID_PATTERN, TaskId } from "../storage/layout";
import type { CallbackParse, FileOffer, ProviderSaid, RecordSaid, TaskError } from "./kind";

export { TaskId };

// Signed CDN links can be long; 8 KiB fits any seen while staying far below the 64 KiB body cap.
const MAX_URL_LENGTH = 8 * 1024;
// A long msg is the provider's wording, not a reason to refuse the result it reports: cut it.
const MAX_MSG_LENGTH = 2000;

// parse() prefixes each message with the field's path, so messages do not name it again.
export const SourceUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`);

/** A URL, or nothing: the provider sends null, "" or leaves the key out. */
export const MaybeUrl = z
  .union([z.literal(""), SourceUrl])
  .nullish()
  .transform((u) => u || null);

/** The callback envelope's `code`: a number, as every provider page shows it. */
export const Code = z.number({ error: "must be a number" }).int("must be an integer");

export const Msg = z
  .string({ error: "must be a string" })
  .nullish()
  .transform((m) => m?.slice(0, MAX_MSG_LENGTH));

/** A record-info field that some pages show as a number and others as a string. */
export const Loose = z.union([z.string(), z.number()]).nullish();

/** A name part taken from the provider (a track id, a stem): it becomes part of an R2 key. */
export const NAME_PART = TASK_ID_PATTERN;

/** The provider's failure, in its own words. */
export function failed(code: number | string, msg: string | null | undefined): ProviderSaid {
  return { type: "failed", error: { code: String(code), message: msg || `provider code ${code}` } };
}

/** A callback schema's result as a CallbackParse, naming the first problem. */
export function parseWith<T>(schema: z.ZodType<T>, json: unknown, read: (body: T) => CallbackParse): CallbackParse {
  const parsed = schema.safeParse(json);
  return parsed.success ? read(parsed.data) : { ok: false, message: firstIssue(parsed.error) };
}

/**
 * The callback envelope `{code, msg, data}` around a kind's own `data` fields; the task id is
 * `data.task_id` or `data.taskId` (the provider's pages spell it both ways), `first` named first.
 */
export function envelope<S extends z.ZodRawShape>(data: S, first: "task_id" | "taskId" = "task_id") {
  return z.object(
    {
      code: Code,
      msg: Msg,
      data: z.object({ task_id: TaskId.optional(), taskId: TaskId.optional(), ...data }, { error: `must be an object with ${first}` }),
    },
    { error: "the body must be a JSON object" },
  );
}

/** A callback in its envelope: read once its task id is found (else the message says it is missing). */
export function parseEnvelope<T extends { code: number; msg?: string | null; data: { task_id?: string; taskId?: string } }>(
  schema: z.ZodType<T>,
  json: unknown,
  first: "task_id" | "taskId",
  read: (body: T, taskId: string) => CallbackParse,
): CallbackParse {
  return parseWith(schema, json, (body) => {
    const taskId = first === "task_id" ? firstTaskId(body.data.task_id, body.data.taskId) : firstTaskId(body.data.taskId, body.data.task_id);
    return taskId === undefined ? { ok: false, message: `data.${first}: is missing` } : read(body, taskId);
  });
}

/** How much of a record's flag (and error code) is kept; its message is kept like a callback's msg. */
const MAX_FLAG_CHARS = 64;

/** What every record-info answer may say about a failure. */
export const RecordError = { errorCode: Loose, errorMessage: z.string().nullish() };

/** The first of the given task-id spellings that is present. */
export function firstTaskId(...ids: (string | undefined)[]): string | undefined {
  return ids.find((id) => id !== undefined);
}

/**
 * A record-info answer from its flag and the files it names: any record whose files carry URLs is
 * used, whatever its flag (CALLBACK_EXCEPTION only says the provider could not call us back); a
 * failure flag without files is a failure; a pending flag is pending; anything else is nothing
 * usable about this one task.
 */
export function recordFrom(opts: {
  flag: string;
  files: FileOffer[];
  stage?: "first" | "complete";
  pending: readonly string[];
  failures: readonly string[];
  error?: TaskError;
}): RecordSaid {
  const files = opts.files;
  // The provider's words end up in rows, history and announcements: kept to a sensible length.
  const flag = opts.flag.slice(0, MAX_FLAG_CHARS);
  if (files.length > 0) return { status: "said", said: { type: "files", stage: opts.stage ?? "complete", files }, flag };
  if (opts.failures.includes(flag)) {
    return { status: "said", said: { type: "failed", error: opts.error ?? recordError(flag, null, null) }, flag };
  }
  if (opts.pending.includes(flag)) return { status: "pending", flag };
  return { status: "unknown", message: `the provider reports ${flag.slice(0, 40)} without any file` };
}

/** record-info's `data` read with `schema`; a `data` that is null or not in the documented form is unknown. */
export function readRecordWith<T>(schema: z.ZodType<T>, data: unknown, read: (record: T) => RecordSaid): RecordSaid {
  if (data === null || data === undefined) return { status: "unknown", message: "the provider has no record of this task (data: null)" };
  const parsed = schema.safeParse(data);
  return parsed.success ? read(parsed.data) : { status: "unknown", message: "the provider's record for this task is not in the documented form" };
}

/** The error a failed record names: its errorCode and errorMessage, else the flag. */
export function recordError(flag: string, code: string | number | null | undefined, message: string | null | undefined): TaskError {
  return { code: String(code ?? flag).slice(0, MAX_FLAG_CHARS), message: (message || flag).slice(0, MAX_MSG_LENGTH) };
}
