// The acknowledgement path's decisions (README, "Replayed signatures"): what a verified callback
// means for its task. The provider signs "<task_id>.<timestamp>", not the body, so one valid
// signature exists per task and time: the same signed time with another result is a replay, the
// identical callback again is a duplicate. Pure; the shard stores what these decide.

import type { KindName, Stage, TaskError } from "../kinds/kind";
import type { StagedOffer, Task, TaskEvent } from "./machine";

/** What a callback (or a poll) says, with any inline content already kept under its own R2 key. */
export type StagedSaid = { type: "files"; stage: Stage; files: StagedOffer[] } | { type: "failed"; error: TaskError };

/** What a callback did, as its history entry says. */
export type CallbackOutcome = "applied" | "duplicate" | "ignored" | "signature_reused" | "kind_mismatch";

/**
 * Which stage a callback is (music: text, first, complete; a failure). The provider's signature
 * covers only the task id and the time, and its stages may come within one second.
 */
export function stageOf(said: StagedSaid): string {
  return said.type === "failed" ? "failed" : said.stage;
}

/** How far each stage is: text, then first, then an end — complete or a failure — after which nothing. */
const STAGE_RANK: Record<string, number> = { text: 1, first: 2, complete: 3, failed: 3 };

/** What a callback said, to tell an identical redelivery from a replay with another body. */
export function resultKey(said: StagedSaid): string {
  if (said.type === "failed") return `failed ${said.error.code} ${said.error.message}`;
  return `${said.stage} ${said.files.map((f) => `${f.name}=${"url" in f.source ? f.source.url : f.source.staged}`).join(" ")}`;
}

/**
 * Whether a signed callback reuses the signature of accepted ones (`earlier`: the stage and result
 * of each callback accepted under it) to say something they did not: another result for a stage
 * already said, or a stage that does not come after them. The identical callback again is no
 * replay (a duplicate); a later stage under the same headers is the provider going on within the
 * same second (README, "Replayed signatures").
 */
export function isReplay(earlier: { stage: string; result: string }[], said: StagedSaid): boolean {
  if (earlier.length === 0) return false;
  const stage = stageOf(said);
  const result = resultKey(said);
  if (earlier.some((e) => e.stage === stage && e.result === result)) return false;
  return earlier.some((e) => (STAGE_RANK[e.stage] ?? 0) >= (STAGE_RANK[stage] ?? 0));
}

/** The machine's event for a verified callback; `redact` cleans the provider's own words. */
export function callbackEvent(kind: KindName, said: StagedSaid, signedAt: number | null, redact: (text: string) => string): TaskEvent {
  if (said.type === "files") return { type: "offered", kind, stage: said.stage, files: said.files, signedAt };
  // The provider's text may quote the callBackUrl, and that carries ?token=.
  return { type: "providerFailed", kind, error: { code: said.error.code, message: redact(said.error.message) } };
}

/** What the callback did: changed the task, repeated what it already knew, or was set aside. */
export function callbackOutcome(before: Task | null, after: Task | null, said: StagedSaid): CallbackOutcome {
  if (after !== before) return "applied";
  if (!before) return "ignored";
  if (said.type === "failed") return before.state === "failed" && before.failure?.code === said.error.code ? "duplicate" : "ignored";
  const known = (o: StagedOffer) => before.files.some((f) => f.name === o.name && JSON.stringify(f.source) === JSON.stringify(o.source));
  return said.files.every(known) ? "duplicate" : "ignored";
}
