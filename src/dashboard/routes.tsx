// The dashboard for a person (README, "Dashboard"): server-rendered pages at /, /tasks,
// /tasks/:id and /settings behind a session cookie; data and actions through the public API
// (./api.ts). Mounted at "/" beside the JSON API, so every middleware here names its paths
// instead of "*": /api/* and /callbacks/* never pass through it.

import { Hono, type Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { ConfigError, readConfig } from "../config";
import { serveFile } from "../download/serve";
import { errorText } from "../lib/redact";
import { TASK_STATES } from "../task/machine";
import type { FileView, TaskView } from "../task/view";
import type { Charts } from "../shard/charts";
import { TASK_ID_PATTERN } from "../storage/layout";
import { KIND_NAMES } from "../kinds/kind";
import { ApiCallError, apiFor, type DashboardApi } from "./api";
import { pianoRollOf } from "./midi";
import { noWaveformReason, type WaveformContent } from "./pages/waveform";
import { waveformOf } from "./waveform";
import { lyricsOf, type FileContent } from "./pages/files";
import { DASHBOARD_CSS, DASHBOARD_JS } from "./assets";
import { FAVICON_ICO, FAVICON_SVG } from "./icon";
import { formToken, sameOrigin } from "./csrf";
import type { DashEnv } from "./env";
import { ErrorPage } from "./pages/error";
import { OverviewPage, type PageNotice } from "./pages/overview";
import { SearchPage } from "./pages/search";
import { SettingsPage } from "./pages/settings";
import { SignInPage } from "./pages/sign-in";
import { NOTICES, TaskPage } from "./pages/task";
import { TaskListPage } from "./pages/tasks";
import { acceptedTokens, clientAddress, endAllSessions, endSession, forgetCookie, listSessions, readSession, revokeSession, startSession } from "./session";
import { bodyLimit } from "hono/body-limit";
import { pageHeaders } from "../http/page-headers";
import { timingSafeEqual } from "hono/utils/buffer";
import { countFailure } from "../middleware/guess-limit";
import { checkSettings, effectiveSettings } from "./settings-check";

/** Every path the dashboard answers (for its path-scoped middleware). */
const PATHS = ["/", "/sign-in", "/sign-out", "/sign-out-everywhere", "/tasks", "/tasks/*", "/settings", "/settings/*", "/retry-failed", "/assets/*", "/favicon.svg", "/favicon.ico", "/search"];
/** Matches the search page lists at most. */
const SEARCH_PAGE_SIZE = 50;
const PAGE_SIZE = 25;
/** "Needs attention" on the overview shows this many tasks. */
const ATTENTION_SIZE = 10;
/** Tasks under way looked through for a set error (newest first, per state). */
const ATTENTION_SCAN = 100;
/** Copy-link URLs stay valid this long. */
const COPY_LINK_TTL_SECONDS = 24 * 60 * 60;

const headers = pageHeaders();

/** Pages hold per-session data (the CSRF token): never cached. */
const noStore = createMiddleware(async (c, next) => {
  await next();
  if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
});

/** A signed-in session, or off to the sign-in page. */
const requireSession = createMiddleware<DashEnv>(async (c, next) => {
  const session = await readSession(c);
  if (!session) {
    if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect("/sign-in", 303);
    throw new HTTPException(403, { message: "Your session has ended; sign in again." });
  }
  c.set("session", session);
  await next();
});

const SignInForm = z.object({ token: z.string().min(1).max(1024) });
const ListQuery = z.object({
  state: z.enum(TASK_STATES).optional().catch(undefined),
  kind: z.enum(KIND_NAMES).optional().catch(undefined),
  cursor: z.string().max(512).optional(),
});
/** A file name as tasks have them: letters, digits, '.', '_' and '-'. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
/** Where "Retry all failed" returns to: a fixed choice, never a URL from the form. */
const BulkRetryForm = z.object({ back: z.enum(["overview", "failed"]).catch("overview") });
const count = z.coerce.number().int().min(0).max(1_000_000).catch(0);

/** The overview's and task list's notice after an action: known words, numbers checked (never reflected text). */
function listNotice(q: Record<string, string>): PageNotice | null {
  switch (q.notice) {
    case "deleted":
      return { kind: "ok", text: "Task deleted: its WAV, state and history are gone." };
    case "gone":
      return { kind: "error", text: "That task no longer exists (it was deleted)." };
    case "bulk-failed":
      return { kind: "error", text: "The retry could not be requested; try again." };
    case "bulk-retried": {
      const n = count.parse(q.n);
      const left = count.parse(q.left);
      const done = n === 0 ? "There was no failed task to retry." : `Retry requested for ${n} failed task${n === 1 ? "" : "s"}: they have another go now.`;
      const more = left > 0 ? ` ${left} more ${left === 1 ? "is" : "are"} still failed: press Retry all failed again.` : "";
      return { kind: "ok", text: done + more };
    }
    default:
      return null;
  }
}

/** The routes that serve a file to a player, an image or a download. */
const FILE_ROUTE = /^\/tasks\/[^/]+\/(wav|files\/[^/]+)$/;

/** What a task's page reads from its own files to show them: the MIDI's notes, the lyrics. */
async function contentOf(api: DashboardApi, task: TaskView): Promise<FileContent> {
  const stored = (name: string) => task.files.some((f) => f.name === name && f.state === "stored");
  if (task.kind === "midi" && stored("midi.json")) {
    const read = await api.fileJson(task.taskId, "midi.json");
    return { roll: ("json" in read ? pianoRollOf(read.json) : null) ?? "unreadable" };
  }
  if (task.kind === "lyrics" && stored("lyrics.json")) {
    const read = await api.fileJson(task.taskId, "lyrics.json");
    return { lyrics: "json" in read ? lyricsOf(read.json) : "unreadable" };
  }
  const wav = task.kind === "wav" && task.state === "stored" ? task.files[0] : undefined;
  if (wav) return { waveform: await waveformContent(api, task.taskId, wav) };
  return {};
}

/** A stored WAV's waveform for its page (README, "Waveforms"), or why there is none, in words. */
async function waveformContent(api: DashboardApi, taskId: string, file: FileView): Promise<WaveformContent> {
  const none = noWaveformReason(file);
  if (none !== null) return { none };
  const read = await api.peaks(taskId, file.name);
  if ("problem" in read) return { none: `its peaks could not be read: ${read.problem}` };
  const waveform = waveformOf(read.json);
  return waveform ? { waveform } : { none: "its peaks file is not in audiowaveform's format" };
}

/** The overview's charts; null when they cannot be read (the rest of the page still shows). */
async function chartsOrNull(api: DashboardApi): Promise<Charts | null> {
  try {
    return await api.charts();
  } catch (err) {
    if (!(err instanceof ApiCallError)) throw err;
    return null;
  }
}

/** Failed tasks, and tasks under way whose last transfer or poll went wrong, newest change first. */
function needsAttention(failed: TaskView[], underWay: TaskView[]): TaskView[] {
  return [...failed, ...underWay.filter((t) => t.error !== null)]
    .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt))
    .slice(0, ATTENTION_SIZE);
}

function taskIdOf(c: Context): string {
  const id = c.req.param("taskId") ?? "";
  if (!TASK_ID_PATTERN.test(id)) throw new HTTPException(404, { message: "There is no task with that id." });
  return id;
}

/** After an action: back to the task page, saying how it went (a known word, never free text). */
function outcome(c: Context, taskId: string, err: unknown): Response {
  let notice: string;
  if (!(err instanceof ApiCallError)) throw err;
  if (err.code in NOTICES) notice = err.code;
  else if (err.status === 404) notice = "gone";
  else notice = "failed";
  return c.redirect(`/tasks/${encodeURIComponent(taskId)}?notice=${notice}`, 303);
}

/** A task page's button: the API call, then back to the task page saying how it went. */
async function taskAction(c: Context<DashEnv>, act: (api: ReturnType<typeof apiFor>, taskId: string) => Promise<unknown>, done: string): Promise<Response> {
  const taskId = taskIdOf(c);
  try {
    await act(apiFor(c), taskId);
  } catch (err) {
    return outcome(c, taskId, err);
  }
  return c.redirect(`/tasks/${encodeURIComponent(taskId)}?notice=${done}`, 303);
}

/** The largest sign-in form read: a token of up to 1,024 characters fits many times over. */
const SIGN_IN_MAX_BYTES = 8 * 1024;

/** 413 for a larger sign-in body, as a page (README, "Security"). */
const signInBodyLimit = bodyLimit({
  maxSize: SIGN_IN_MAX_BYTES,
  onError: (c) => c.html(<SignInPage error={`That sign-in form is larger than ${SIGN_IN_MAX_BYTES / 1024} KiB; send only the API token.`} />, 413),
});

/** The accepted token equal to `given` (compared in constant time with each), or null. */
async function matchingToken(given: string, tokens: readonly string[]): Promise<string | null> {
  let found: string | null = null;
  for (const token of tokens) if ((await timingSafeEqual(given, token)) && found === null) found = token;
  return found;
}

export const dashboard = new Hono<DashEnv>();
for (const path of PATHS) dashboard.use(path, headers, noStore);

dashboard
  // No session needed: the sign-in page shows the icon too.
  .get("/favicon.svg", (c) => c.body(FAVICON_SVG, 200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" }))
  .get("/favicon.ico", (c) => c.body(FAVICON_ICO, 200, { "content-type": "image/x-icon", "cache-control": "public, max-age=86400" }))
  .get("/assets/dashboard.css", (c) => c.body(DASHBOARD_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }))
  .get("/assets/dashboard.js", (c) => c.body(DASHBOARD_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }))

  .get("/sign-in", async (c) => {
    if (await readSession(c)) return c.redirect("/", 303);
    return c.html(<SignInPage closed={!readConfig(c.env).API_TOKEN} />);
  })
  // Same-origin only: a cross-site form cannot sign a browser in to someone else's session.
  // A bounded body (README, "Security"), and a wrong token counts against the address.
  .post("/sign-in", sameOrigin, signInBodyLimit, async (c) => {
    if (!readConfig(c.env).API_TOKEN) return c.html(<SignInPage closed />, 503);
    const tokens = acceptedTokens(c.env);
    const form = SignInForm.safeParse(await c.req.parseBody());
    const token = form.success ? await matchingToken(form.data.token, tokens) : null;
    if (token === null) {
      const counted = await countFailure(c);
      if (counted.limited) {
        c.header("retry-after", String(counted.retryAfter));
        return c.html(<SignInPage error={`Too many failed sign-ins from this address (${clientAddress(c)}). Try again in ${counted.retryAfter} seconds.`} />, 429);
      }
      return c.html(<SignInPage error="That is not this worker's API token." />, 401);
    }
    await startSession(c, token);
    return c.redirect("/", 303);
  })
  // The session's row goes: a copy of the cookie taken before opens nothing after this.
  .post("/sign-out", sameOrigin, requireSession, formToken, async (c) => {
    await endSession(c, c.get("session"));
    return c.redirect("/sign-in", 303);
  })
  // Every session of every browser ends, this one's too.
  .post("/sign-out-everywhere", sameOrigin, requireSession, formToken, async (c) => {
    await endAllSessions(c.env);
    forgetCookie(c);
    return c.redirect("/sign-in", 303);
  })
  // One session of the settings page's list ends; revoking this browser's own signs it out.
  .post("/settings/sessions/revoke", sameOrigin, requireSession, formToken, async (c) => {
    const form = await c.req.parseBody();
    const key = typeof form.session === "string" ? form.session : "";
    const revoked = await revokeSession(c.env, key);
    if (revoked && key === c.get("session").key) {
      forgetCookie(c);
      return c.redirect("/sign-in", 303);
    }
    return c.redirect(`/settings?notice=${revoked ? "revoked" : "revoke-gone"}`, 303);
  })

  .get("/", requireSession, async (c) => {
    const api = apiFor(c);
    const [counts, failed, downloading, pending, latest, charts] = await Promise.all([
      api.stats(),
      api.list({ state: "failed", limit: ATTENTION_SIZE }),
      api.list({ state: "downloading", limit: ATTENTION_SCAN }),
      api.list({ state: "pending", limit: ATTENTION_SCAN }),
      api.list({ limit: 10 }),
      chartsOrNull(api),
    ]);
    const attention = needsAttention(failed.tasks, [...downloading.tasks, ...pending.tasks]);
    return c.html(
      <OverviewPage csrf={c.get("session").csrf} counts={counts} attention={attention} latest={latest.tasks} notice={listNotice(c.req.query())} now={Date.now()} charts={charts} />,
    );
  })
  .get("/tasks", requireSession, async (c) => {
    const q = ListQuery.safeParse(c.req.query());
    if (!q.success) throw new HTTPException(400, { message: "That page of tasks does not exist; start again from the task list." });
    const api = apiFor(c);
    let list, counts;
    try {
      [list, counts] = await Promise.all([api.list({ state: q.data.state, kind: q.data.kind, limit: PAGE_SIZE, cursor: q.data.cursor }), api.stats()]);
    } catch (err) {
      if (err instanceof ApiCallError && err.status === 400) throw new HTTPException(400, { message: "That page of tasks does not exist; start again from the task list." });
      throw err;
    }
    return c.html(
      <TaskListPage
        csrf={c.get("session").csrf}
        state={q.data.state}
        kind={q.data.kind}
        tasks={list.tasks}
        cursor={list.cursor}
        paged={q.data.cursor !== undefined}
        counts={counts}
        notice={listNotice(c.req.query())}
        now={Date.now()}
      />,
    );
  })
  .get("/tasks/:taskId", requireSession, async (c) => {
    const taskId = taskIdOf(c);
    const api = apiFor(c);
    const task = await api.task(taskId);
    if (!task) throw new HTTPException(404, { message: `No task ${taskId} is known here.` });
    const [history, link, content] = await Promise.all([
      api.history(taskId),
      task.state === "stored" && task.kind === "wav" ? api.link(taskId, COPY_LINK_TTL_SECONDS) : null,
      contentOf(api, task),
    ]);
    const notice = c.req.query("notice");
    return c.html(<TaskPage csrf={c.get("session").csrf} task={task} history={history} link={link} content={content} notice={notice} now={Date.now()} />);
  })
  // The players, images and video of a task's page, and its download links: as /wav, the task's
  // state decides (only a stored file is served), and R2 answers Range itself.
  .on(["GET", "HEAD"], "/tasks/:taskId/files/:name", requireSession, async (c) => {
    const name = c.req.param("name");
    const task = FILE_NAME.test(name) ? await apiFor(c).task(taskIdOf(c)) : null;
    const file = task?.files.find((f) => f.name === name);
    if (!file || file.state !== "stored") throw new HTTPException(404, { message: "This task has no stored file of that name." });
    const res = await serveFile(c.env.BUCKET, { key: file.key, contentType: file.contentType, filename: file.name, disposition: "inline" }, c.req.raw);
    // Behind a session: nothing of it stays in the browser's cache after sign-out.
    res.headers.set("cache-control", "no-store");
    return res;
  })
  // The player and the download: R2 answers Range itself, so <audio> gets 206s and can seek.
  .on(["GET", "HEAD"], "/tasks/:taskId/wav", requireSession, async (c) => {
    // As the API's /wav: the task's state decides, not whatever the bucket holds under the key.
    const task = await apiFor(c).task(taskIdOf(c));
    if (task?.state !== "stored") throw new HTTPException(404, { message: "This task has no stored WAV." });
    const wav = task.kind === "wav" ? task.files[0] : undefined;
    if (!wav) throw new HTTPException(404, { message: "This task has no stored WAV." });
    const res = await serveFile(c.env.BUCKET, { key: wav.key, contentType: wav.contentType, filename: wav.name }, c.req.raw);
    // Behind a session: nothing of it stays in the browser's cache after sign-out.
    res.headers.set("cache-control", "no-store");
    return res;
  })
  .post("/tasks/:taskId/retry", sameOrigin, requireSession, formToken, (c) => taskAction(c, (api, id) => api.retry(id), "retried"))
  .post("/tasks/:taskId/notify", sameOrigin, requireSession, formToken, (c) => taskAction(c, (api, id) => api.notify(id), "notified"))
  // Through DELETE /api/tasks/:taskId; the task page asked for confirmation first.
  .post("/tasks/:taskId/delete", sameOrigin, requireSession, formToken, async (c) => {
    const taskId = taskIdOf(c);
    try {
      await apiFor(c).delete(taskId);
    } catch (err) {
      if (err instanceof ApiCallError && err.status === 404) return c.redirect("/tasks?notice=gone", 303);
      return outcome(c, taskId, err);
    }
    return c.redirect("/tasks?notice=deleted", 303);
  })
  // "Retry all failed": one bounded round of POST /api/tasks/retry?state=failed.
  .post("/retry-failed", sameOrigin, requireSession, formToken, async (c) => {
    const { back } = BulkRetryForm.parse(await c.req.parseBody());
    const to = back === "failed" ? "/tasks?state=failed&" : "/?";
    try {
      const r = await apiFor(c).retryFailed();
      return c.redirect(`${to}notice=bulk-retried&n=${r.retried}&left=${r.remaining}`, 303);
    } catch (err) {
      if (!(err instanceof ApiCallError)) throw err;
      return c.redirect(`${to}notice=bulk-failed`, 303);
    }
  })
  // Find a task (README, "Dashboard" → "Find a task"): straight to it when exactly one matches.
  .get("/search", requireSession, async (c) => {
    const q = (c.req.query("q") ?? "").trim().slice(0, 256);
    const found = q === "" ? null : await apiFor(c).search(q, SEARCH_PAGE_SIZE);
    const only = found?.results.length === 1 && !found.more ? found.results[0]! : null;
    if (only) return c.redirect(`/tasks/${encodeURIComponent(only.task.taskId)}`, 303);
    return c.html(<SearchPage csrf={c.get("session").csrf} q={q} found={found} now={Date.now()} />);
  })
  .get("/settings", requireSession, async (c) =>
    c.html(
      <SettingsPage
        csrf={c.get("session").csrf}
        findings={checkSettings(c.env)}
        effective={effectiveSettings(c.env)}
        sessions={await listSessions(c.env)}
        current={c.get("session").key}
        notice={c.req.query("notice")}
        now={Date.now()}
      />,
    ),
  )

  // A person's browser gets an HTML page, never the API's JSON error shape.
  .onError(async (err, c) => {
    const session = await readSession(c).catch(() => null);
    const csrf = session?.csrf;
    if (err instanceof HTTPException) {
      const status = err.status;
      const title = status === 403 ? "Refused" : status === 404 ? "Not found" : status === 401 ? "Not signed in" : "Something is wrong";
      const message =
        status === 403 && !err.message ? "This request did not come from this dashboard's own pages, so it was refused." : err.message || "The request could not be served.";
      // A failed WAV or file fetch keeps the API's status and JSON body (a 416, say): <audio> only needs the status.
      if (FILE_ROUTE.test(c.req.path) && err.getResponse().headers.get("content-type")?.includes("json")) return err.getResponse();
      return c.html(<ErrorPage status={status} title={title} message={message} csrf={csrf} />, status);
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      return c.html(<ErrorPage status={500} title="Misconfigured" message={err.message} csrf={csrf} />, 500);
    }
    // The message only, redacted: a stack or cause could carry a URL's query or a secret.
    console.error(`dashboard error: ${err instanceof Error ? `${err.name}: ` : ""}${errorText(err, c.env)}`);
    return c.html(<ErrorPage status={500} title="Something went wrong" message="Something went wrong on our side; try again later." csrf={csrf} />, 500);
  });
