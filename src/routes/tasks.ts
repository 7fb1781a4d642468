// /api/tasks: submit, register, read, list, retry, announce again and delete tasks; download
// their WAVs. Bearer API_TOKEN throughout; the WAV download also accepts a signed link. Every
// task's state lives in its shard (../shard/shard.ts); these handlers only translate.

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { publicUrl, readConfig } from "../config";
import { DEFAULT_LINK_TTL_SECONDS, makeDownloadLink, MAX_LINK_TTL_SECONDS } from "../download/signed-link";
import { serveWav } from "../download/serve";
import { apiError, redactSecrets } from "../http/errors";
import type { AppEnv } from "../http/types";
import { apiAuth } from "../middleware/api-auth";
import { readJson, requireJson } from "../middleware/require-json";
import type { HTTPException } from "hono/http-exception";
import { decodeCursor, listTasks } from "../shard/list";
import { shard, SHARD_COUNT, shardFor, submissionShard } from "../shard/shards";
import { TASK_ID_PATTERN } from "../storage/layout";
import { TASK_STATES } from "../task/machine";

const TaskId = z.string().regex(TASK_ID_PATTERN, "must be 1-128 letters, digits, '_' or '-'");

const SubmitBody = z.object({
  taskId: z.string().min(1).max(256),
  audioId: z.string().min(1).max(256),
});

/** PUT's optional body: which track the WAV task belongs to. */
const RegisterBody = z
  .object({
    musicTaskId: z.string().min(1).max(256),
    audioId: z.string().min(1).max(256),
  })
  .optional();

const ListQuery = z.object({
  state: z.enum(TASK_STATES).optional(),
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
  ttl: z.coerce.number().int().min(1).max(MAX_LINK_TTL_SECONDS).default(DEFAULT_LINK_TTL_SECONDS),
});

/** Validates with zod and turns the first issue into a 400 that names the field. */
function parseOr400<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? `${issue.path.join(".")}: ` : "";
  throw apiError(400, `invalid_${what}`, `${field}${issue.message}`);
}

function taskIdParam(raw: string): string {
  return parseOr400(TaskId, raw, "task_id");
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
async function taskOr404(env: Env, taskId: string) {
  const lookup = await shardFor(env, taskId).get(taskId);
  if (lookup === null) throw notFound(taskId);
  if ("deleted" in lookup) throw notFound(taskId, true);
  return lookup.task;
}

export const tasks = new Hono<AppEnv>()
  // Downloads first: the only routes a signed link may open.
  .on(["GET", "HEAD"], "/:taskId/wav", apiAuth({ allowSignedLink: true }), async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    // The task's state decides, not the bucket: nothing is served for a deleted or unfinished task.
    const task = await taskOr404(c.env, taskId);
    if (task.state !== "stored") throw apiError(404, "not_stored", `No WAV is stored for task ${taskId} yet (state ${task.state}).`);
    return serveWav(c.env.BUCKET, taskId, c.req.raw);
  })
  .use("*", apiAuth())

  // Before the /:taskId routes, and before /api/tasks/:taskId in the 405 table: "retry" here is
  // this route, never a task id.
  .post("/retry", async (c) => {
    parseOr400(BulkRetryQuery, c.req.query(), "query");
    const rounds = await Promise.all(Array.from({ length: SHARD_COUNT }, (_, n) => shard(c.env, n).retryFailed(BULK_RETRY_PER_SHARD)));
    const retried = rounds.reduce((sum, r) => sum + r.retried, 0);
    const remaining = rounds.reduce((sum, r) => sum + r.remaining, 0);
    return c.json({ retried, remaining, more: remaining > 0 }, 202);
  })

  .post("/", requireJson(), bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    const body = parseOr400(SubmitBody, await readJson(c.req.raw), "body");
    const config = readConfig(c.env);
    const callBackUrl = publicUrl(config, c.req.url, "/callbacks/wav");
    if (config.CALLBACK_TOKEN) callBackUrl.searchParams.set("token", config.CALLBACK_TOKEN);
    const music = { taskId: body.taskId, audioId: body.audioId };

    const submitted = await submissionShard(c.env, music.taskId, music.audioId).submit(music, callBackUrl.toString());
    if ("providerCode" in submitted) {
      // The provider may quote the callBackUrl it was sent, and that carries ?token=.
      const provider = { code: submitted.providerCode, message: redactSecrets(submitted.providerMsg, c.env) };
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
    const { task } = await shardFor(c.env, submitted.wavTaskId).register(submitted.wavTaskId, music);
    return c.json(task, submitted.created ? 202 : 200);
  })

  .put("/:taskId", bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    const raw = await c.req.text();
    let json: unknown;
    if (raw.trim() !== "") {
      try {
        json = JSON.parse(raw);
      } catch {
        throw apiError(400, "malformed_json", "The body must be JSON: {\"musicTaskId\", \"audioId\"} (or empty).");
      }
    }
    const body = parseOr400(RegisterBody, json, "body");
    const music = body ? { taskId: body.musicTaskId, audioId: body.audioId } : null;
    const { created, task } = await shardFor(c.env, taskId).register(taskId, music);
    return c.json(task, created ? 201 : 200);
  })

  .get("/", async (c) => {
    const q = parseOr400(ListQuery, c.req.query(), "query");
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (cursor === null) throw apiError(400, "invalid_query", "cursor: not a cursor this API returned");
    return c.json(await listTasks(c.env, { state: q.state, audioId: q.audioId, limit: q.limit, cursor }));
  })

  .get("/:taskId", async (c) => {
    return c.json(await taskOr404(c.env, taskIdParam(c.req.param("taskId"))));
  })

  .delete("/:taskId", async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    if (!(await shardFor(c.env, taskId).delete(taskId))) {
      await taskOr404(c.env, taskId); // says not_found or deleted
      throw notFound(taskId);
    }
    return c.body(null, 204);
  })

  .get("/:taskId/link", async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    const { ttl } = parseOr400(LinkQuery, c.req.query(), "query");
    const task = await taskOr404(c.env, taskId);
    if (task.state !== "stored") throw apiError(404, "not_stored", `Task ${taskId} has no stored WAV yet (state ${task.state}).`);
    const config = readConfig(c.env);
    return c.json(await makeDownloadLink(config.API_TOKEN!, publicUrl(config, c.req.url, ""), taskId, ttl));
  })

  .get("/:taskId/events", async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    const events = await shardFor(c.env, taskId).events(taskId);
    if (events === null) await taskOr404(c.env, taskId);
    return c.json({ events });
  })

  .post("/:taskId/retry", async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    const r = await shardFor(c.env, taskId).retry(taskId);
    if (r === null) await taskOr404(c.env, taskId);
    if (r && "alreadyStored" in r) throw apiError(409, "already_stored", `Task ${taskId} is stored; there is nothing to retry.`);
    return c.json(r!.task, 202);
  })

  .post("/:taskId/notify", async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
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
