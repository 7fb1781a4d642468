// The acknowledgement path's decisions (README, "Replayed signatures"): what a verified callback
// means for its task. The provider signs "<task_id>.<timestamp>", not the body, so one valid
// signature exists per task and time: the same signed time with another result is a replay, the
// identical callback again is a duplicate. Pure; the shard stores what these decide.

import type { Task, TaskError, TaskEvent } from "./machine";

/** What the provider reports about a task, through a callback. */
export type ProviderResult = { type: "wavUrl"; url: string } | { type: "providerFailed"; error: TaskError };

/** What a callback did, as its history entry says. */
export type CallbackOutcome = "applied" | "duplicate" | "ignored" | "signature_reused";

/** What a callback said, to tell an identical redelivery from a replay with another body. */
export function resultKey(r: ProviderResult): string {
  return r.type === "wavUrl" ? `url ${r.url}` : `failed ${r.error.code} ${r.error.message}`;
}

/**
 * Whether a signed callback reuses the signature of an accepted one (`earlier`: what that one said,
 * or null if none) with another result.
 */
export function isReplay(earlier: string | null, r: ProviderResult): boolean {
  return earlier !== null && earlier !== resultKey(r);
}

/** The machine's event for a verified callback; `redact` cleans the provider's own words. */
export function callbackEvent(r: ProviderResult, signedAt: number | null, redact: (text: string) => string): TaskEvent {
  if (r.type === "wavUrl") return { type: "wavUrl", url: r.url, signedAt };
  // The provider's text may quote the callBackUrl, and that carries ?token=.
  return { type: "providerFailed", error: { code: r.error.code, message: redact(r.error.message) } };
}

/** What the callback did: changed the task, repeated what it already knew, or was set aside. */
export function callbackOutcome(before: Task | null, after: Task | null, r: ProviderResult): CallbackOutcome {
  if (after !== before) return "applied";
  if (!before) return "ignored";
  const same = r.type === "wavUrl" ? before.sourceUrl === r.url : before.state === "failed" && before.error?.code === r.error.code;
  return same ? "duplicate" : "ignored";
}
