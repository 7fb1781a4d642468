// The provider's callback bodies (README, "Routes": POST /callbacks/wav), validated and reduced to
// what the task needs: its id and either a WAV URL or a failure.

import { z } from "zod";
import { firstIssue } from "../lib/issues";
import { TaskId } from "../storage/layout";
import type { ProviderResult } from "../task/callback";

// Signed CDN links can be long; 8 KiB fits any seen while staying far below the 64 KiB body cap.
const MAX_URL_LENGTH = 8 * 1024;
// A long msg is the provider's wording, not a reason to refuse the result it reports: cut it.
const MAX_MSG_LENGTH = 2000;

// parseCallback prefixes each message with the field's path, so messages do not name it again.
const WavUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`);

const CallbackBody = z.object(
  {
    code: z.number({ error: "must be a number" }).int("must be an integer"),
    msg: z
      .string({ error: "must be a string" })
      .nullish()
      .transform((m) => m?.slice(0, MAX_MSG_LENGTH)),
    data: z.object(
      {
        task_id: TaskId,
        audioWavUrl: WavUrl.nullish(),
        audio_wav_url: WavUrl.nullish(),
      },
      { error: "must be an object with task_id" },
    ),
  },
  { error: "the body must be a JSON object" },
);

export interface Callback {
  taskId: string;
  result: ProviderResult;
  /** The verified X-Webhook-Timestamp (null when signatures are not in use). */
  signedAt: number | null;
}

export type CallbackParse = { ok: true; callback: Callback } | { ok: false; message: string };

export function parseCallback(json: unknown): CallbackParse {
  const parsed = CallbackBody.safeParse(json);
  if (!parsed.success) return { ok: false, message: firstIssue(parsed.error) };
  const { code, msg, data } = parsed.data;
  const url = data.audioWavUrl ?? data.audio_wav_url;
  if (code === 200) {
    if (!url) return { ok: false, message: "data.audioWavUrl is missing from a success callback" };
    return { ok: true, callback: { taskId: data.task_id, result: { type: "wavUrl", url }, signedAt: null } };
  }
  return {
    ok: true,
    callback: {
      taskId: data.task_id,
      result: { type: "providerFailed", error: { code: String(code), message: msg || `provider code ${code}` } },
      signedAt: null,
    },
  };
}
