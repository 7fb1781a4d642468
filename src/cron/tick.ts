// The Cron Trigger's work: ask each task shard to poll its due tasks. The scheduled invocation
// itself makes one call per shard; each shard calls the provider for at most MAX_POLLS_PER_SHARD
// of its own tasks, so no invocation comes near the subrequest limit.

import { errorText } from "../lib/redact";
import type { ShardTickReport } from "../shard/shard";
import { shard, SHARD_COUNT } from "../shard/shards";
import type { PollOutcome } from "../task/poll";

/** Upper bound on provider calls in one tick, whatever the backlog. */
export const MAX_POLLS_PER_TICK = 300;

export interface TickReport {
  shardsVisited: number;
  due: number;
  polled: number;
  providerCalls: number;
  outcomes: Partial<Record<PollOutcome, number>>;
  /** Some shard stopped polling early because the provider is in trouble (the others went on). */
  stoppedForTrouble: boolean;
  /** Shards or polls that failed to answer (their tasks stay due). */
  errors: number;
  ms: number;
}

/** `scheduledTime` only rotates the starting shard; claims and due times use the clock. */
export async function runTick(env: Env, scheduledTime: number): Promise<TickReport> {
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
  const first = Math.floor(scheduledTime / 60_000) % SHARD_COUNT;
  for (let i = 0; i < SHARD_COUNT; i++) {
    const budget = MAX_POLLS_PER_TICK - report.polled;
    if (budget <= 0) break;
    // Shards one after another: when the provider is in trouble, later shards leave it alone.
    const n = (first + i) % SHARD_COUNT;
    let r: ShardTickReport;
    try {
      r = await shard(env, n).tick(budget);
    } catch (err) {
      console.error(`cron: shard ${n} failed: ${errorText(err, env)}`);
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
    // The shard stopped at its first sign of provider trouble; the tick goes on with the others
    // within its budget (one shard's 5xx does not leave every other shard's tasks unasked).
    if (r.trouble) report.stoppedForTrouble = true;
  }
  report.ms = Date.now() - started;
  return report;
}
