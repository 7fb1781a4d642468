// Talking to the Worker under test through its HTTP surface.

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../src/index";
import type { TaskView } from "../../src/task/view";

export const ORIGIN = "https://edge.test";
export const API_TOKEN = "test-api-token";
export const HMAC_KEY = "test-hmac-key";

/** A response's JSON body, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function jsonOf(res: Response): Promise<any> {
  return res.json();
}

/**
 * A request from a client address of its own (CF-Connecting-IP, as Cloudflare sets it) unless the
 * test names one: wrong tokens count per address (README, "Security" → "Rate limits"), and only
 * the tests of that limit share an address on purpose.
 */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  const req = new Request(`${ORIGIN}${path}`, init);
  if (!req.headers.has("cf-connecting-ip")) req.headers.set("cf-connecting-ip", randomAddress());
  return exports.default.fetch(req);
}

/** An address in the documentation range 2001:db8::/32, a new one each time. */
export function randomAddress(): string {
  const words = Array.from(crypto.getRandomValues(new Uint16Array(6)), (w) => w.toString(16));
  return `2001:db8:${words.join(":")}`;
}

/**
 * Calls the Worker's fetch handler with the test env plus `settings` (the setting under test);
 * bindings (Durable Objects, R2) stay the real ones. Alarms still see the test env.
 */
export async function callWith(settings: Record<string, string>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const req = new Request(`${ORIGIN}${path}`, init);
  if (!req.headers.has("cf-connecting-ip")) req.headers.set("cf-connecting-ip", randomAddress());
  const res = await worker.fetch(req, { ...env, ...settings } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${API_TOKEN}`);
  return call(path, { ...init, headers });
}

export async function signature(taskId: string, timestamp: number, key = HMAC_KEY): Promise<string> {
  const k = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`${taskId}.${timestamp}`));
  return btoa(String.fromCharCode(...new Uint8Array(mac)));
}

/** A callback signed the way the provider signs it, to /callbacks/<kind> (wav unless given). */
export async function sendCallback(
  body: unknown,
  opts: { kind?: string; taskId?: string; timestamp?: number; key?: string; query?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const b = body as { task_id?: string; data?: { task_id?: string; taskId?: string } };
  const taskId = opts.taskId ?? b.data?.task_id ?? b.data?.taskId ?? b.task_id ?? "";
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return call(`/callbacks/${opts.kind ?? "wav"}${opts.query ?? ""}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-webhook-timestamp": String(timestamp),
      "x-webhook-signature": await signature(taskId, timestamp, opts.key),
      ...opts.headers,
    },
    body: typeof body === "string" || body instanceof ReadableStream ? body : JSON.stringify(body),
  });
}

export function successBody(taskId: string, url: string, spelling: "audioWavUrl" | "audio_wav_url" = "audioWavUrl") {
  return { code: 200, msg: "success", data: { task_id: taskId, [spelling]: url } };
}

export async function getTask(taskId: string): Promise<TaskView | null> {
  const res = await api(`/api/tasks/${taskId}`);
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return jsonOf(res);
}

/** Waits until the task reaches one of `states` (the alarm does the work in the background). */
export async function waitForState(taskId: string, states: string[], timeoutMs = 15_000): Promise<TaskView> {
  const deadline = Date.now() + timeoutMs;
  let last: TaskView | null = null;
  while (Date.now() < deadline) {
    last = await getTask(taskId);
    if (last && states.includes(last.state)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`task ${taskId} did not reach ${states.join("|")}; last seen: ${JSON.stringify(last)}`);
}

/** Returns once Date.now() has moved past its value at the call: things made one after another get distinct times. */
export async function clockTick(): Promise<void> {
  const start = Date.now();
  // In workerd the clock moves only across I/O, a timer included.
  while (Date.now() <= start) await new Promise((r) => setTimeout(r, 1));
}

let counter = 0;
/** A task id no other test uses (storage and alarms outlive a single test). */
export function uniqueTaskId(prefix = "t"): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The task once its final state is reached and announced (nothing changes it after that). */
export async function waitForAnnounced(taskId: string, states: string[], timeoutMs = 15_000): Promise<TaskView> {
  await waitForState(taskId, states, timeoutMs);
  await expect.poll(async () => (await getTask(taskId))?.notification.state, { timeout: timeoutMs }).toBe("delivered");
  return (await getTask(taskId))!;
}
