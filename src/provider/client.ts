// The Suno API (README, "Task lifecycle and the cron"): submitting a WAV conversion and asking
// record-info about a task of any kind. Every answer is validated with zod; anything unexpected
// becomes a ProviderError instead of a guess.

import { z } from "zod";
import type { Kind, RecordSaid } from "../kinds/kind";

export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    /** The provider's `code` from the body, or the HTTP status when the body had none. */
    readonly code: number,
    message: string,
    /** Provider-wide trouble (5xx, rate limit, maintenance): stop calling it for a while. */
    readonly trouble: boolean,
  ) {
    super(message);
  }
}

/** Codes that say "not now" about the provider as a whole rather than about one task. */
const TROUBLE_CODES = new Set([401, 405, 429, 430, 455, 500, 502, 503, 504]);

export interface ProviderOptions {
  baseUrl: string;
  apiKey: string | undefined;
}

/** How long the provider gets to answer one call. */
const CALL_TIMEOUT_MS = 15_000;

const Envelope = z.object({
  code: z.coerce.number().int(),
  msg: z.string().nullish(),
  data: z.unknown().optional(),
});

const SubmitData = z.object({ taskId: z.string().min(1) });

async function call(opts: ProviderOptions, path: string, init: RequestInit): Promise<unknown> {
  if (!opts.apiKey) throw new ProviderError(401, "SUNO_API_KEY is not configured", true);
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${opts.baseUrl}${path}`, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${opts.apiKey}`, accept: "application/json" },
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    // Inside the try: a body cut off mid-read is the provider's trouble too, not an internal error.
    text = await res.text();
  } catch (err) {
    throw new ProviderError(503, `the provider could not be reached (${err instanceof Error ? err.name : "error"})`, true);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProviderError(res.status >= 400 ? res.status : 502, `the provider answered HTTP ${res.status} with a body that is not JSON`, !res.ok || res.status >= 500);
  }
  const env = Envelope.safeParse(json);
  if (!env.success) {
    throw new ProviderError(res.status >= 400 ? res.status : 502, `the provider answered HTTP ${res.status} with an unexpected body`, true);
  }
  if (!res.ok || env.data.code !== 200) {
    const code = env.data.code !== 200 ? env.data.code : res.status;
    throw new ProviderError(code, env.data.msg ?? `HTTP ${res.status}`, TROUBLE_CODES.has(code) || res.status >= 500);
  }
  return env.data.data;
}

/** POST /api/v1/wav/generate: returns the WAV task id. */
export async function submitWav(
  opts: ProviderOptions,
  input: { taskId: string; audioId: string; callBackUrl: string },
): Promise<string> {
  const data = await call(opts, "/api/v1/wav/generate", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  const parsed = SubmitData.safeParse(data);
  if (!parsed.success) throw new ProviderError(502, "the provider's answer has no data.taskId", false);
  return parsed.data.taskId;
}

/**
 * GET {recordInfoPath}?taskId=: the task's state as the provider sees it, read by its kind (any
 * record that names files is a success, whatever its flag; a failure flag without files is a
 * failure).
 */
export async function getRecord(opts: ProviderOptions, kind: Kind, taskId: string): Promise<RecordSaid> {
  const data = await call(opts, `${kind.recordInfoPath}?taskId=${encodeURIComponent(taskId)}`, { method: "GET" });
  return kind.readRecord(data, taskId);
}
