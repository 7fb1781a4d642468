// The Cron Trigger's work: ask each index shard to poll its due tasks. The scheduled invocation
// itself makes one call per shard; each shard calls the due tasks' objects, and each object calls
// the provider for its own task, so no invocation comes near the subrequest limit.

import type { PollOutcome } from "../task/object";
import type { ShardTickReport } from "../task-index/shard";
import { INDEX_SHARDS, indexShard } from "../task-index/shards";

/** Upper bound on provider calls in one tick, whatever the backlog. */
export const MAX_POLLS_PER_TICK = 300;

export interface TickReport {
  shardsVisited: number;
  due: number;
  polled: number;
  providerCalls: number;
  outcomes: Partial<Record<PollOutcome, number>>;
  /** The tick stopped early because the provider is in trouble. */
  stoppedForTrouble: boolean;
  /** Shards or task objects that failed to answer (their tasks stay due). */
  errors: number;
  ms: number;
}

export async function runTick(env: Env, now: number): Promise<TickReport> {
  const started = Date.now();
  const report: TickReport = {
    shardsVisited: 0,
    due: 0,
    polled: 0,
    providerCalls: 0,
    outcomes: {},
    stoppedForTrouble: false,
    errors: 0,
    ms: 0,
  };
  // Start at a different shard each minute so a budget cut never starves the same shards.
  const first = Math.floor(now / 60_000) % INDEX_SHARDS;
  for (let i = 0; i < INDEX_SHARDS; i++) {
    const budget = MAX_POLLS_PER_TICK - report.polled;
    if (budget <= 0) break;
    // Shards one after another: when the provider is in trouble, later shards leave it alone.
    const shard = (first + i) % INDEX_SHARDS;
    let r: ShardTickReport;
    try {
      r = await indexShard(env, shard).tick(now, budget);
    } catch (err) {
      console.error(`cron: shard ${shard} failed`, err);
      report.errors++;
      continue;
    }
    report.shardsVisited++;
    report.errors += r.errors;
    report.due += r.due;
    report.polled += r.polled;
    report.providerCalls += r.providerCalls;
    for (const [k, v] of Object.entries(r.outcomes)) {
      const key = k as PollOutcome;
      report.outcomes[key] = (report.outcomes[key] ?? 0) + v;
    }
    if (r.trouble) {
      report.stoppedForTrouble = true;
      break;
    }
  }
  report.ms = Date.now() - started;
  return report;
}
