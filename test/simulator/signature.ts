// The provider's callback signature: X-Webhook-Timestamp (unix seconds) and
// X-Webhook-Signature = base64(HMAC-SHA256(key, "<task_id>.<timestamp>")). It signs the task id
// and the time, not the body.

import { createHmac } from "node:crypto";

export function webhookSignature(key: string, taskId: string, timestamp: number): string {
  return createHmac("sha256", key).update(`${taskId}.${timestamp}`).digest("base64");
}

/** Headers of a signed callback; without a key, only the content type. */
export function callbackHeaders(key: string | null, taskId: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key !== null) {
    headers["x-webhook-timestamp"] = String(timestamp);
    headers["x-webhook-signature"] = webhookSignature(key, taskId, timestamp);
  }
  return headers;
}

export interface SuccessCallback {
  code: 200;
  msg: string;
  data: { task_id: string; audioWavUrl: string };
}

export interface FailureCallback {
  code: number;
  msg: string;
  data: { task_id: string };
}

export function successCallback(taskId: string, audioWavUrl: string): SuccessCallback {
  return { code: 200, msg: "success", data: { task_id: taskId, audioWavUrl } };
}

export function failureCallback(taskId: string, code: number, msg: string): FailureCallback {
  return { code, msg, data: { task_id: taskId } };
}
