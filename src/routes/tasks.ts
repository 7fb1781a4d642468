// /api/tasks: submit, register, read and list tasks; download their WAVs. Bearer API_TOKEN
// throughout; the WAV download also accepts a signed link.

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { publicUrl, readConfig } from "../config";
import { DEFAULT_LINK_TTL_SECONDS, MAX_LINK_TTL_SECONDS, signLink } from "../download/signed-link";
import { serveWav } from "../download/serve";
import { apiError, redactSecrets } from "../http/errors";
import type { AppEnv } from "../http/types";
import { apiAuth } from "../middleware/api-auth";
import { readJson, requireJson } from "../middleware/require-json";
import { ProviderError, submitWav } from "../provider/client";
import { TASK_ID_PATTERN } from "../storage/layout";
import { redact } from "../transfer/source";
import { TASK_STATES } from "../task/machine";
import { taskObject } from "../task/objects";
import { decodeCursor, listTasks } from "../task-index/list";

const TaskId = z.string().regex(TASK_ID_PATTERN, "must be 1-128 letters, digits, '_' or '-'");

const SubmitBody = z.object({
  taskId: z.string().min(1).max(256),
  audioId: z.string().min(1).max(256),
});

const ListQuery = z.object({
  state: z.enum(TASK_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional(),
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

/** A task as answered: its WAV URL without the query, since a signed CDN link is a credential. */
function shown<T extends { source: { url: string } | null }>(task: T): T {
  return task.source === null ? task : { ...task, source: { ...task.source, url: redact(task.source.url) } };
}

function taskIdParam(raw: string): string {
  return parseOr400(TaskId, raw, "task_id");
}

export const tasks = new Hono<AppEnv>()
  // Downloads first: the only routes a signed link may open.
  .on(["GET", "HEAD"], "/:taskId/wav", apiAuth({ allowSignedLink: true }), async (c) => {
    return serveWav(c.env.BUCKET, taskIdParam(c.req.param("taskId")), c.req.raw);
  })
  .use("*", apiAuth())

  .post("/", requireJson(), bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    const body = parseOr400(SubmitBody, await readJson(c.req.raw), "body");
    const config = readConfig(c.env);
    const callBackUrl = publicUrl(config, c.req.url, "/callbacks/wav");
    if (config.CALLBACK_TOKEN) callBackUrl.searchParams.set("token", config.CALLBACK_TOKEN);

    let wavTaskId: string;
    try {
      wavTaskId = await submitWav(
        { baseUrl: config.SUNO_API_BASE, apiKey: config.SUNO_API_KEY },
        { taskId: body.taskId, audioId: body.audioId, callBackUrl: callBackUrl.toString() },
      );
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      // The provider may quote the callBackUrl it was sent, and that carries ?token=.
      const providerMsg = redactSecrets(err.message, c.env);
      return c.json(
        {
          error: {
            code: "provider_error",
            message: `The provider refused the conversion (code ${err.code}): ${providerMsg}`,
            providerCode: err.code,
            providerMsg,
          },
        },
        502,
      );
    }
    if (!TASK_ID_PATTERN.test(wavTaskId)) {
      throw apiError(502, "provider_error", "The provider returned a task id this service cannot store.");
    }
    const { task } = await taskObject(c.env, wavTaskId).register(wavTaskId);
    return c.json(shown(task), 202);
  })

  .put("/:taskId", async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    const { created, task } = await taskObject(c.env, taskId).register(taskId);
    return c.json(shown(task), created ? 201 : 200);
  })

  .get("/", async (c) => {
    const q = parseOr400(ListQuery, c.req.query(), "query");
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (cursor === null) throw apiError(400, "invalid_query", "cursor: not a cursor this API returned");
    const page = await listTasks(c.env, { state: q.state, limit: q.limit, cursor });
    return c.json({ ...page, tasks: page.tasks.map(shown) });
  })

  .get("/:taskId", async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    const task = await taskObject(c.env, taskId).get();
    if (!task) throw apiError(404, "not_found", `No task ${taskId} is known here.`);
    return c.json(shown(task));
  })

  .get("/:taskId/link", async (c) => {
    const taskId = taskIdParam(c.req.param("taskId"));
    const { ttl } = parseOr400(LinkQuery, c.req.query(), "query");
    const task = await taskObject(c.env, taskId).get();
    if (!task) throw apiError(404, "not_found", `No task ${taskId} is known here.`);
    if (task.state !== "stored") throw apiError(404, "not_stored", `Task ${taskId} has no stored WAV yet (state ${task.state}).`);
    const config = readConfig(c.env);
    const path = `/api/tasks/${taskId}/wav`;
    const expires = Math.floor(Date.now() / 1000) + ttl;
    // Signed over the worker's own path; PUBLIC_URL's path (if any) is where a proxy mounts it.
    const url = publicUrl(config, c.req.url, path);
    url.searchParams.set("expires", String(expires));
    url.searchParams.set("sig", await signLink(config.API_TOKEN!, path, expires));
    return c.json({ url: url.toString(), expiresAt: new Date(expires * 1000).toISOString() });
  });
