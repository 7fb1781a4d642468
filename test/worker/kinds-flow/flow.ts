// Shared steps of the kinds-flow tests: what every kind's files must look like once stored (task
// JSON, the download route, R2, the announcement), the record-info answers the cron and link
// refreshes read, and moving the clock for the cron and for retries. Not a test file itself.
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { expect, vi } from "vitest";
import { runTick, type TickReport } from "../../../src/cron/tick";
import type { FileView, TaskView } from "../../../src/task/view";
import { runDue } from "../../helpers/durable";
import { NOTIFY_URL, requestsTo, route, type SeenRequest } from "../../helpers/fake-net";
import { sha256Hex } from "../../helpers/wav";
import { api, call, getTask, jsonOf, ORIGIN } from "../../helpers/worker";

export const CDN = "https://cdn.example.com";
export const OVERDUE_MS = 300_000;

/** The record-info endpoint of each kind (SPEC, "Every kind of task"). */
export const RECORD_INFO = {
  wav: "https://provider.test/api/v1/wav/record-info",
  music: "https://provider.test/api/v1/generate/record-info",
  stems: "https://provider.test/api/v1/vocal-removal/record-info",
  video: "https://provider.test/api/v1/mp4/record-info",
  cover: "https://provider.test/api/v1/suno/cover/record-info",
  midi: "https://provider.test/api/v1/midi/record-info",
  lyrics: "https://provider.test/api/v1/lyrics/record-info",
} as const;
export type KindName = keyof typeof RECORD_INFO;

/** What one file must be once stored: its name, bytes and type. */
export interface Expected {
  name: string;
  bytes: Uint8Array;
  contentType: string;
  role?: string;
  track?: string | null;
}

export type Announcement = {
  type: string;
  timestamp: string;
  data: Omit<TaskView, "files"> & { files: (FileView & { downloadUrl?: string; downloadExpiresAt?: string })[] };
};

export function verified(r: SeenRequest): Announcement {
  return new Webhook(env.NOTIFY_SECRET).verify(r.body ?? "", Object.fromEntries(r.headers)) as Announcement;
}

/** The announcements the fake app received for one task, verified with standardwebhooks. */
export function announcementsFor(taskId: string): Announcement[] {
  return requestsTo(NOTIFY_URL)
    .filter((r) => (JSON.parse(r.body ?? "{}") as Announcement).data?.taskId === taskId)
    .map(verified);
}

/** Waits for the task's first announcement and returns it (verified). */
export async function announcement(taskId: string, timeout = 10_000): Promise<Announcement> {
  await expect.poll(() => announcementsFor(taskId).length, { timeout }).toBeGreaterThanOrEqual(1);
  return announcementsFor(taskId)[0]!;
}

export const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());
export const utf8 = (s: string) => new TextEncoder().encode(s);

/** Keys of the R2 objects under a prefix. */
export async function r2Keys(prefix: string): Promise<string[]> {
  return (await env.BUCKET.list({ prefix })).objects.map((o) => o.key);
}

/**
 * Every expected file is stored: the task lists it with its size, sha256 (computed here), type
 * and key `<kind>/<taskId>/<name>`; the download route serves those bytes with that type; R2 holds
 * them under that key.
 */
export async function expectFilesStored(task: TaskView, expected: Expected[]): Promise<void> {
  for (const e of expected) {
    const f = task.files.find((x) => x.name === e.name);
    expect(f, `${e.name} is one of the task's files`).toBeDefined();
    const key = `${task.kind}/${task.taskId}/${e.name}`;
    expect(f).toMatchObject({ state: "stored", size: e.bytes.length, contentType: e.contentType, key, error: null });
    if (e.role !== undefined) expect(f!.role).toBe(e.role);
    if (e.track !== undefined) expect(f!.track).toBe(e.track);
    expect(f!.sha256).toBe(await sha256Hex(e.bytes));
    const res = await api(`/api/tasks/${task.taskId}/files/${e.name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(e.contentType);
    expect(res.headers.get("content-disposition")).toContain(e.name);
    expect(await bytesOf(res)).toEqual(e.bytes);
    const object = await env.BUCKET.get(key);
    expect(object, `R2 has ${key}`).not.toBeNull();
    expect(object!.httpMetadata?.contentType).toBe(e.contentType);
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(e.bytes);
  }
}

/**
 * The `<kind>.<outcome>` announcement arrived, signed, and each file stored in it carries a signed
 * downloadUrl that serves that file's bytes without the bearer token.
 */
export async function expectAnnounced(taskId: string, type: string, expected: Expected[]): Promise<Announcement> {
  const a = await announcement(taskId);
  expect(a.type).toBe(type);
  expect(a.data.taskId).toBe(taskId);
  for (const e of expected) {
    const f = a.data.files.find((x) => x.name === e.name);
    expect(f, `${e.name} is in the announcement's data.files`).toBeDefined();
    expect(f!.state).toBe("stored");
    expect(f!.downloadUrl, `${e.name} has a downloadUrl`).toBeTypeOf("string");
    expect(f!.downloadUrl!.startsWith(`${ORIGIN}/api/tasks/${taskId}/files/${e.name}?`)).toBe(true);
    expect(Date.parse(f!.downloadExpiresAt!) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const res = await call(f!.downloadUrl!.slice(ORIGIN.length)); // no Authorization header
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(e.contentType);
    expect(await bytesOf(res)).toEqual(e.bytes);
  }
  return a;
}

/** Stored file content as text, through the API. */
export async function fileText(taskId: string, name: string): Promise<string> {
  const res = await api(`/api/tasks/${taskId}/files/${name}`);
  expect(res.status).toBe(200);
  return res.text();
}

/**
 * Answers every kind's record-info: `answers` by task id (the `data` object, or a whole Response),
 * and PENDING for every other task (other tests' tasks are overdue too when the clock moves).
 */
export function recordInfo(answers: Map<string, unknown | (() => Response)>): void {
  for (const url of Object.values(RECORD_INFO)) {
    route("GET", url, (req) => {
      const taskId = new URL(req.url).searchParams.get("taskId")!;
      const a = answers.get(taskId);
      if (typeof a === "function") return (a as () => Response)();
      // PENDING in every kind's spelling: music and lyrics read `status`, the others `successFlag`.
      const data = a ?? { taskId, status: "PENDING", successFlag: "PENDING", response: null, errorCode: null, errorMessage: null };
      return Response.json({ code: 200, msg: "success", data });
    });
  }
}

/** Polls of one task at one kind's record-info. */
export function pollsOf(kind: KindName, taskId: string): number {
  return requestsTo(`${RECORD_INFO[kind]}?taskId=${taskId}`).length;
}

/** Sets the clock (fake Date, shared with the Worker's code in this isolate) and runs one cron tick. */
export async function tickAt(ms: number): Promise<TickReport> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(ms);
  return runTick(env, ms);
}

/** Moves the clock to the task's next attempt and runs what is due (shard and runner alarms). */
export async function nextAttempt(taskId: string): Promise<void> {
  const due = Date.parse((await getTask(taskId))!.nextAttemptAt!);
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Math.max(Date.now(), due) + 1);
  await runDue(taskId);
  vi.useRealTimers();
}

/** Registers a task of `kind` the way an operator does for a task submitted elsewhere. */
export async function register(taskId: string, kind: KindName): Promise<TaskView> {
  const res = await api(`/api/tasks/${taskId}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind }) });
  expect(res.status).toBe(201);
  const task = (await jsonOf(res)) as TaskView;
  expect(task).toMatchObject({ taskId, kind, state: "pending", files: [] });
  return task;
}

/** The task's history entries of one type. */
export async function eventsOf(taskId: string, type: string): Promise<Record<string, unknown>[]> {
  const { events } = await jsonOf(await api(`/api/tasks/${taskId}/events`));
  return (events as { type: string }[]).filter((e) => e.type === type) as Record<string, unknown>[];
}

/** A callback signed over another task id answers 401, and nothing about the task exists afterwards. */
export async function expectNothingRecorded(kind: KindName, taskId: string, urls: string[] = []): Promise<void> {
  const res = await api(`/api/tasks/${taskId}`);
  expect(res.status).toBe(404);
  expect((await jsonOf(res)).error.code).toBe("not_found");
  expect((await api(`/api/tasks/${taskId}/events`)).status).toBe(404);
  expect(await r2Keys(`${kind}/${taskId}/`)).toEqual([]);
  for (const url of urls) expect(requestsTo(url)).toHaveLength(0);
}

/** Waits until the task's file is stored (or failed), and returns the task. */
export async function fileSettled(taskId: string, name: string, timeout = 10_000): Promise<TaskView> {
  await expect
    .poll(async () => (await getTask(taskId))?.files.find((f) => f.name === name)?.state, { timeout })
    .toMatch(/^(stored|failed)$/);
  return (await getTask(taskId))!;
}
