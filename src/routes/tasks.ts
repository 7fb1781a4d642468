// /api/tasks: submit, register, read, list, retry, announce again and delete tasks; download
// their files. Bearer API_TOKEN throughout; the downloads also accept a signed link. Every task's
// state lives in its shard (../shard/shard.ts); these handlers only translate.

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { HTTPException } from "hono/http-exception";
import { publicUrl, readConfig } from "../config";
import { filePath, LINK_TTL_DEFAULT_SECONDS, LINK_TTL_MAX_SECONDS, makeDownloadLink, wavPath } from "../download/signed-link";
import { serveFile } from "../download/serve";
import { apiError } from "../http/errors";
import type { AppEnv } from "../http/types";
import { firstIssue } from "../lib/issues";
import { redactText } from "../lib/redact";
import { apiAuth } from "../middleware/api-auth";
import { readJson, requireJson } from "../middleware/require-json";
import { decodeCursor, listTasks } from "../shard/list";
import { shard, SHARD_COUNT, shardFor, submissionShard } from "../shard/shards";
import { peaksKey, TASK_ID_PATTERN } from "../storage/layout";
import { KIND_NAMES } from "../kinds/kind";
import { TASK_STATES } from "../task/machine";
import type { FileView, TaskView } from "../task/view";
import { docs } from "../openapi/routes";
import { FileParams, TaskParams, validParams, validQuery } from "../openapi/validate";

const SubmitBody = z.object({
  taskId: z.string().min(1).max(256),
  audioId: z.string().min(1).max(256),
});

/** PUT's optional body: the task's kind (default wav), and which track it belongs to. */
const RegisterBody = z
  .object({
    kind: z.enum(KIND_NAMES).default("wav"),
    musicTaskId: z.string().min(1).max(256).optional(),
    audioId: z.string().min(1).max(256).optional(),
  })
  .refine((b) => (b.musicTaskId === undefined) === (b.audioId === undefined), { message: "musicTaskId and audioId go together", path: ["audioId"] })
  .optional();

const ListQuery = z.object({
  state: z.enum(TASK_STATES).optional(),
  kind: z.enum(KIND_NAMES).optional(),
  audioId: z.string().min(1).max(256).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional(),
});

/** Failed tasks each shard reopens per POST /api/tasks/retry call: the work of one call stays bounded. */
export const BULK_RETRY_PER_SHARD = 20;

const BulkRetryQuery = z.object({
  state: z.literal("failed", { error: "must be failed: only failed tasks are retried in bulk" }),
});

const LinkQuery = z.object({
  ttl: z.coerce.number().int().min(1).max(LINK_TTL_MAX_SECONDS).default(LINK_TTL_DEFAULT_SECONDS),
});

/** Validates with zod and turns the first issue into a 400 that names the field. */
function parseOr400<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw apiError(400, `invalid_${what}`, firstIssue(r.error));
}

function notFound(taskId: string, deleted = false): HTTPException {
  return deleted
    ? apiError(404, "deleted", `Task ${taskId} was deleted; PUT /api/tasks/${taskId} registers it again.`)
    : apiError(404, "not_found", `No task ${taskId} is known here.`);
}

function notificationsOff(): HTTPException {
  return apiError(409, "notifications_off", "NOTIFY_URL is not set, so nothing is announced; set it (and NOTIFY_SECRET) first.");
}

/** The task as its shard has it, or the 404 that says why not. */
async function taskOr404(env: Env, taskId: string): Promise<TaskView> {
  const lookup = await shardFor(env, taskId).get(taskId);
  if (lookup === null) throw notFound(taskId);
  if ("deleted" in lookup) throw notFound(taskId, true);
  return lookup.task;
}

/** One of the task's files, stored; else the 404 that says why not. */
function storedFileOr404(task: TaskView, name: string): FileView {
  const file = task.files.find((f) => f.name === name);
  if (!file) throw apiError(404, "not_found", `Task ${task.taskId} has no file named ${JSON.stringify(name.slice(0, 140))}; GET /api/tasks/${task.taskId} lists its files.`);
  if (file.state !== "stored") throw apiError(404, "not_stored", `${name} of task ${task.taskId} is not stored (yet): it is ${file.state}.`);
  return file;
}

/** A `wav` task's stored WAV; else the 404 that says why not. */
function storedWavOr404(task: TaskView): FileView {
  if (task.kind !== "wav") {
    throw apiError(404, "not_stored", `Task ${task.taskId} is a ${task.kind} task, without a WAV; its files are under /api/tasks/${task.taskId}/files/<name>.`);
  }
  if (task.state !== "stored") throw apiError(404, "not_stored", `No WAV is stored for task ${task.taskId} yet (state ${task.state}).`);
  return task.files[0]!;
}

function kindMismatch(taskId: string, kind: string): HTTPException {
  return apiError(409, "kind_mismatch", `Task ${taskId} is already known as a ${kind} task; its kind cannot change.`);
}

export const tasks = new Hono<AppEnv>()
  // Downloads first: the only routes a signed link may open.
  // The task decides, not the bucket: nothing is served for a deleted task or a file not stored.
  .on(["GET", "HEAD"], "/:taskId/wav", docs.wav, apiAuth({ allowSignedLink: true }), validParams(TaskParams), async (c) => {
    const task = await taskOr404(c.env, c.req.valid("param").taskId);
    const wav = storedWavOr404(task);
    return serveFile(c.env.BUCKET, { key: wav.key, contentType: wav.contentType, filename: wav.name }, c.req.raw);
  })
  .on(["GET", "HEAD"], "/:taskId/files/:name", docs.file, apiAuth({ allowSignedLink: true }), validParams(FileParams), async (c) => {
    const task = await taskOr404(c.env, c.req.valid("param").taskId);
    const file = storedFileOr404(task, c.req.valid("param").name);
    return serveFile(c.env.BUCKET, { key: file.key, contentType: file.contentType, filename: file.name }, c.req.raw);
  })
  .use("*", apiAuth())

  // Before the /:taskId routes: "retry" here is this route, never a task id.
  .post("/retry", docs.bulkRetry, validQuery(BulkRetryQuery), async (c) => {
    const rounds = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, n) => shard(c.env, n).retryFailed(BULK_RETRY_PER_SHARD)));
    const retried = rounds.reduce((sum, r) => sum + r.retried, 0);
    const remaining = rounds.reduce((sum, r) => sum + r.remaining, 0);
    return c.json({ retried, remaining, more: remaining > 0 }, 202);
  })

  .post("/", docs.submit(SubmitBody), requireJson(), bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    const body = parseOr400(SubmitBody, await readJson(c.req.raw), "body");
    const config = readConfig(c.env);
    const callBackUrl = publicUrl(config, c.req.url, "/callbacks/wav");
    if (config.CALLBACK_TOKEN) callBackUrl.searchParams.set("token", config.CALLBACK_TOKEN);
    const music = { taskId: body.taskId, audioId: body.audioId };

    const submitted = await submissionShard(c.env, music.taskId, music.audioId).submit(music, callBackUrl.toString());
    if ("providerCode" in submitted) {
      // The provider may quote the callBackUrl it was sent, and that carries ?token=.
      const provider = { code: submitted.providerCode, message: redactText(submitted.providerMsg, c.env) };
      return c.json(
        {
          error: {
            code: "provider_error",
            message: `The provider refused the conversion (code ${provider.code}): ${provider.message}`,
            providerCode: provider.code,
            providerMsg: provider.message,
          },
        },
        502,
      );
    }
    if (!TASK_ID_PATTERN.test(submitted.wavTaskId)) {
      throw apiError(502, "provider_error", "The provider returned a task id this service cannot store.");
    }
    const registered = await shardFor(c.env, submitted.wavTaskId).register(submitted.wavTaskId, "wav", music);
    if ("kindMismatch" in registered) throw kindMismatch(submitted.wavTaskId, registered.kindMismatch);
    return c.json(registered.task, submitted.created ? 202 : 200);
  })

  .put("/:taskId", docs.register(RegisterBody), validParams(TaskParams), bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    const taskId = c.req.valid("param").taskId;
    const raw = await c.req.text();
    let json: unknown;
    if (raw.trim() !== "") {
      try {
        json = JSON.parse(raw);
      } catch {
        throw apiError(400, "malformed_json", "The body must be JSON: {\"kind\", \"musicTaskId\", \"audioId\"} (or empty).");
      }
    }
    const body = parseOr400(RegisterBody, json, "body");
    const music = body?.musicTaskId && body.audioId ? { taskId: body.musicTaskId, audioId: body.audioId } : null;
    const registered = await shardFor(c.env, taskId).register(taskId, body?.kind ?? "wav", music);
    if ("kindMismatch" in registered) throw kindMismatch(taskId, registered.kindMismatch);
    return c.json(registered.task, registered.created ? 201 : 200);
  })

  .get("/", docs.list, validQuery(ListQuery), async (c) => {
    const q = c.req.valid("query");
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (cursor === null) throw apiError(400, "invalid_query", "cursor: not a cursor this API returned");
    return c.json(await listTasks(c.env, { state: q.state, kind: q.kind, audioId: q.audioId, limit: q.limit, cursor }));
  })

  .get("/:taskId", docs.get, validParams(TaskParams), async (c) => {
    return c.json(await taskOr404(c.env, c.req.valid("param").taskId));
  })

  .delete("/:taskId", docs.delete, validParams(TaskParams), async (c) => {
    const taskId = c.req.valid("param").taskId;
    if (!(await shardFor(c.env, taskId).delete(taskId))) {
      await taskOr404(c.env, taskId); // says not_found or deleted
      throw notFound(taskId);
    }
    return c.body(null, 204);
  })

  .get("/:taskId/link", docs.wavLink, validParams(TaskParams), validQuery(LinkQuery), async (c) => {
    const taskId = c.req.valid("param").taskId;
    const { ttl } = c.req.valid("query");
    storedWavOr404(await taskOr404(c.env, taskId));
    const config = readConfig(c.env);
    return c.json(await makeDownloadLink(config.API_TOKEN!, publicUrl(config, c.req.url, ""), wavPath(taskId), ttl));
  })

  // A stored WAV's waveform (README, "Waveforms"): audiowaveform's JSON, kept beside the file.
  .get("/:taskId/files/:name/peaks", docs.peaks, validParams(FileParams), async (c) => {
    const { taskId, name } = c.req.valid("param");
    const file = storedFileOr404(await taskOr404(c.env, taskId), name);
    if (!file.waveform?.available) {
      const why = file.waveform && !file.waveform.available ? file.waveform.reason : "only WAVs get a waveform";
      throw apiError(404, "no_waveform", `${file.name} has no waveform: ${why}.`);
    }
    const peaks = await c.env.BUCKET.get(peaksKey(file.key));
    if (!peaks) throw apiError(404, "no_waveform", `${file.name}'s waveform is not in R2.`);
    return new Response(peaks.body, { headers: { "content-type": "application/json", "cache-control": "private, max-age=3600" } });
  })

  .get("/:taskId/files/:name/link", docs.fileLink, validParams(FileParams), validQuery(LinkQuery), async (c) => {
    const { taskId, name } = c.req.valid("param");
    const { ttl } = c.req.valid("query");
    const file = storedFileOr404(await taskOr404(c.env, taskId), name);
    const config = readConfig(c.env);
    return c.json(await makeDownloadLink(config.API_TOKEN!, publicUrl(config, c.req.url, ""), filePath(taskId, file.name), ttl));
  })

  .get("/:taskId/events", docs.events, validParams(TaskParams), async (c) => {
    const taskId = c.req.valid("param").taskId;
    const events = await shardFor(c.env, taskId).history(taskId);
    if (events === null) await taskOr404(c.env, taskId);
    return c.json({ events });
  })

  .post("/:taskId/retry", docs.retry, validParams(TaskParams), async (c) => {
    const taskId = c.req.valid("param").taskId;
    const r = await shardFor(c.env, taskId).retry(taskId);
    if (r === null) await taskOr404(c.env, taskId);
    if (r && "alreadyStored" in r) throw apiError(409, "already_stored", `Task ${taskId} is stored; there is nothing to retry.`);
    return c.json(r!.task, 202);
  })

  .post("/:taskId/notify", docs.notify, validParams(TaskParams), async (c) => {
    const taskId = c.req.valid("param").taskId;
    if (!readConfig(c.env).NOTIFY_URL) {
      await taskOr404(c.env, taskId); // an unknown task is 404 first
      throw notificationsOff();
    }
    const r = await shardFor(c.env, taskId).redeliver(taskId);
    if (r === null) await taskOr404(c.env, taskId);
    if (r && "off" in r) throw notificationsOff();
    if (r && "notFinal" in r) throw apiError(409, "not_final", `Task ${taskId} is not stored or failed yet; it is announced when it is.`);
    return c.json(r!.task, 202);
  });
