// The dashboard for a person (README, "Dashboard"): server-rendered pages at /, /tasks,
// /tasks/:id and /settings behind a session cookie; data and actions through the public API
// (./api.ts). Mounted at "/" beside the JSON API, so every middleware here names its paths
// instead of "*": /api/* and /callbacks/* never pass through it.

import { Hono, type Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { z } from "zod";
import { ConfigError, readConfig } from "../config";
import { serveFile } from "../download/serve";
import { errorText } from "../lib/redact";
import { TASK_ID_PATTERN } from "../storage/layout";
import { TASK_STATES } from "../task/machine";
import { ApiCallError, apiFor } from "./api";
import { DASHBOARD_CSS, DASHBOARD_JS } from "./assets";
import { formToken, sameOrigin } from "./csrf";
import type { DashEnv } from "./env";
import { ErrorPage } from "./pages/error";
import { OverviewPage } from "./pages/overview";
import { SettingsPage } from "./pages/settings";
import { SignInPage } from "./pages/sign-in";
import { NOTICES, TaskPage } from "./pages/task";
import { TaskListPage } from "./pages/tasks";
import { endSession, readSession, startSession, tokenMatches } from "./session";
import { checkSettings } from "./settings-check";

/** Every path the dashboard answers (for its path-scoped middleware). */
const PATHS = ["/", "/sign-in", "/sign-out", "/tasks", "/tasks/*", "/settings", "/assets/*"];
const PAGE_SIZE = 25;
/** How long the task page's copy-link URL stays valid. */
const COPY_LINK_TTL_SECONDS = 24 * 60 * 60;

const headers = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    mediaSrc: ["'self'"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  referrerPolicy: "same-origin",
  crossOriginResourcePolicy: "same-origin",
});

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
  cursor: z.string().max(512).optional(),
});

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

export const dashboard = new Hono<DashEnv>();
for (const path of PATHS) dashboard.use(path, headers, noStore);

dashboard
  .get("/assets/dashboard.css", (c) => c.body(DASHBOARD_CSS, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }))
  .get("/assets/dashboard.js", (c) => c.body(DASHBOARD_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }))

  .get("/sign-in", async (c) => {
    if (await readSession(c)) return c.redirect("/", 303);
    return c.html(<SignInPage closed={!readConfig(c.env).API_TOKEN} />);
  })
  // Same-origin only: a cross-site form cannot sign a browser in to someone else's session.
  .post("/sign-in", sameOrigin, async (c) => {
    const token = readConfig(c.env).API_TOKEN;
    if (!token) return c.html(<SignInPage closed />, 503);
    const form = SignInForm.safeParse(await c.req.parseBody());
    if (!form.success || !(await tokenMatches(form.data.token, token))) {
      return c.html(<SignInPage error="That is not this worker's API token." />, 401);
    }
    await startSession(c, token);
    return c.redirect("/", 303);
  })
  .post("/sign-out", sameOrigin, requireSession, formToken, (c) => {
    endSession(c);
    return c.redirect("/sign-in", 303);
  })

  .get("/", requireSession, async (c) => {
    const api = apiFor(c);
    const [counts, failures, latest] = await Promise.all([api.stats(), api.list({ state: "failed", limit: 5 }), api.list({ limit: 10 })]);
    return c.html(<OverviewPage csrf={c.get("session").csrf} counts={counts} failures={failures.tasks} latest={latest.tasks} />);
  })
  .get("/tasks", requireSession, async (c) => {
    const q = ListQuery.safeParse(c.req.query());
    if (!q.success) throw new HTTPException(400, { message: "That page of tasks does not exist; start again from the task list." });
    let list;
    try {
      list = await apiFor(c).list({ state: q.data.state, limit: PAGE_SIZE, cursor: q.data.cursor });
    } catch (err) {
      if (err instanceof ApiCallError && err.status === 400) throw new HTTPException(400, { message: "That page of tasks does not exist; start again from the task list." });
      throw err;
    }
    return c.html(
      <TaskListPage csrf={c.get("session").csrf} state={q.data.state} tasks={list.tasks} cursor={list.cursor} paged={q.data.cursor !== undefined} />,
    );
  })
  .get("/tasks/:taskId", requireSession, async (c) => {
    const taskId = taskIdOf(c);
    const api = apiFor(c);
    const task = await api.task(taskId);
    if (!task) throw new HTTPException(404, { message: `No task ${taskId} is known here.` });
    const [history, link] = await Promise.all([api.history(taskId), task.state === "stored" ? api.link(taskId, COPY_LINK_TTL_SECONDS) : null]);
    const notice = c.req.query("notice");
    return c.html(<TaskPage csrf={c.get("session").csrf} task={task} history={history} link={link} notice={notice} />);
  })
  // The player and the download: R2 answers Range itself, so <audio> gets 206s and can seek.
  .on(["GET", "HEAD"], "/tasks/:taskId/wav", requireSession, async (c) => {
    // As the API's /wav: the task's state decides, not whatever the bucket holds under the key.
    const task = await apiFor(c).task(taskIdOf(c));
    const wav = task?.kind === "wav" && task.state === "stored" ? task.files[0] : undefined;
    if (!wav) throw new HTTPException(404, { message: "This task has no stored WAV." });
    const res = await serveFile(c.env.BUCKET, { key: wav.key, contentType: wav.contentType, filename: wav.name }, c.req.raw);
    // Behind a session: nothing of it stays in the browser's cache after sign-out.
    res.headers.set("cache-control", "no-store");
    return res;
  })
  .post("/tasks/:taskId/retry", sameOrigin, requireSession, formToken, (c) => taskAction(c, (api, id) => api.retry(id), "retried"))
  .post("/tasks/:taskId/notify", sameOrigin, requireSession, formToken, (c) => taskAction(c, (api, id) => api.notify(id), "notified"))
  .get("/settings", requireSession, (c) => c.html(<SettingsPage csrf={c.get("session").csrf} findings={checkSettings(c.env)} />))

  // A person's browser gets an HTML page, never the API's JSON error shape.
  .onError(async (err, c) => {
    const session = await readSession(c).catch(() => null);
    const csrf = session?.csrf;
    if (err instanceof HTTPException) {
      const status = err.status;
      const title = status === 403 ? "Refused" : status === 404 ? "Not found" : status === 401 ? "Not signed in" : "Something is wrong";
      const message =
        status === 403 && !err.message ? "This request did not come from this dashboard's own pages, so it was refused." : err.message || "The request could not be served.";
      // A failed WAV fetch keeps the API's status and JSON body: <audio> only needs the status.
      if (c.req.path.endsWith("/wav") && err.getResponse().headers.get("content-type")?.includes("json")) return err.getResponse();
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
