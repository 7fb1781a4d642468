// A cron tick with N tracked tasks of which exactly D are due, for two values of N: how many
// provider calls it makes (record-info requests counted at the simulator, and the worker's own
// cron_tick line) and how long it takes (the /__scheduled request, and the tick's own `ms`).
//
// How exactly D tasks are made due: a task's due time is fixed when it is registered
// (registration time + OVERDUE_AFTER_SECONDS) and stored with it. So the D tasks are registered
// by a first `wrangler dev` session of the worker with OVERDUE_AFTER_SECONDS=1; that session is
// stopped and a second one is started on the same local state with OVERDUE_AFTER_SECONDS=86400,
// which registers the other N − D tasks: those are due only tomorrow. No timing race decides
// which tasks are due. The simulator answers PENDING for all of them, so each polled task is
// next due 30 s later (the provider's minimum interval): the same D tasks are due again for the
// second measurement, taken after the tracked set has grown to the second N and 30 s have passed.
// Between measurements, ticks with nothing due show the cost of the tick itself.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevWorker, workerVarsFor, type CronTickLog, type DevWorker } from "../e2e/harness.ts";
import type { Simulator } from "../simulator/simulator.ts";
import { runLoad } from "./load.ts";

export interface CronOptions {
  sim: Simulator;
  keys: { apiToken: string; hmacKey: string; sunoKey: string };
  due: number;
  /** The two tracked counts, smaller first. */
  tracked: [number, number];
  idleTicks: number;
  registerConcurrency: number;
  tmpRoot?: string;
  log: (line: string) => void;
}

export interface TickMeasure {
  tracked: number;
  expectedDue: number;
  /** From the worker's cron_tick line. */
  due: number;
  polled: number;
  providerCallsWorker: number;
  /** record-info requests the simulator received during the tick. */
  providerCallsSimulator: number;
  tickMs: number;
  requestMs: number;
  outcomes: Record<string, number>;
}

export interface CronResult {
  due: number;
  ticks: TickMeasure[];
  idle: TickMeasure[];
  registration: { tasks: number; seconds: number; perSecond: number; failed: number };
}

export async function benchCron(opts: CronOptions): Promise<CronResult> {
  const { sim, keys, log } = opts;
  const root = mkdtempSync(join(opts.tmpRoot ?? tmpdir(), "wav-edge-cron-"));
  const persistTo = join(root, "state");
  const stamp = Date.now().toString(36);
  const reg = { tasks: 0, seconds: 0, failed: 0 };
  const tmp = opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {};

  const register = async (dev: DevWorker, prefix: string, from: number, count: number) => {
    if (count <= 0) return;
    const r = await runLoad({
      url: dev.url,
      connections: Math.min(opts.registerConcurrency, count),
      amount: count,
      make: (i) => ({ method: "PUT", path: `/api/tasks/${prefix}-${stamp}-${from + i}`, headers: { authorization: `Bearer ${keys.apiToken}` } }),
    });
    reg.tasks += r.ok2xx;
    reg.seconds += r.seconds;
    reg.failed += r.non2xx + r.errors + r.timeouts;
    if (r.ok2xx !== count) throw new Error(`registering ${count} tasks: only ${r.ok2xx} answered 2xx (${JSON.stringify(r.statusCodes)}, errors ${r.errors})`);
    log(`    registered ${count} (${prefix}) in ${r.seconds.toFixed(1)} s (${(count / r.seconds).toFixed(0)}/s)`);
  };

  const tick = async (dev: DevWorker, tracked: number, expectedDue: number): Promise<TickMeasure> => {
    sim.resetCounters();
    const since = Date.now();
    const t0 = performance.now();
    const res = await fetch(`${dev.url}/__scheduled?cron=*+*+*+*+*`);
    await res.text();
    const requestMs = performance.now() - t0;
    if (res.status !== 200) throw new Error(`/__scheduled answered ${res.status}`);
    const line = await dev.waitForLog((l) => l.message.includes('"cron_tick"'), { since, timeoutMs: 15_000 });
    const t = JSON.parse(line.message.slice(line.message.indexOf("{"))) as CronTickLog;
    return {
      tracked,
      expectedDue,
      due: t.due,
      polled: t.polled,
      providerCallsWorker: t.providerCalls,
      providerCallsSimulator: sim.counters.recordInfo,
      tickMs: t.ms,
      requestMs,
      outcomes: t.outcomes,
    };
  };

  /** Ticks with nothing due, once the measured tick's after-effects (index updates) are over. */
  const idleTicks = async (dev: DevWorker, tracked: number): Promise<TickMeasure[]> => {
    await new Promise((r) => setTimeout(r, 5000));
    const out: TickMeasure[] = [];
    for (let i = 0; i < opts.idleTicks; i++) {
      out.push(await tick(dev, tracked, 0));
      await new Promise((r) => setTimeout(r, 1000));
    }
    log(`    ticks with nothing due, ${tracked} tracked: ${out.map((t) => `${t.tickMs} ms`).join(", ")}`);
    return out;
  };

  const result: CronResult = { due: opts.due, ticks: [], idle: [], registration: { tasks: 0, seconds: 0, perSecond: 0, failed: 0 } };
  try {
    log(`  session 1 (OVERDUE_AFTER_SECONDS=1): register the ${opts.due} tasks that will be due`);
    const first = await startDevWorker({ persistTo, keepState: true, ...tmp, vars: workerVarsFor(sim, keys, { OVERDUE_AFTER_SECONDS: "1" }) });
    try {
      await register(first, "due", 0, opts.due);
    } finally {
      await first.stop();
    }
    await new Promise((r) => setTimeout(r, 1500)); // past their 1 s

    log(`  session 2 (OVERDUE_AFTER_SECONDS=86400), same state: register the rest`);
    const dev = await startDevWorker({ persistTo, keepState: true, ...tmp, vars: workerVarsFor(sim, keys, { OVERDUE_AFTER_SECONDS: "86400" }) });
    try {
      const [small, large] = opts.tracked;
      await register(dev, "idle", 0, small - opts.due);
      const m1 = await tick(dev, small, opts.due);
      const dueAgainAt = Date.now() + 31_000; // polled PENDING: next due in 30 s
      log(`    tick with ${small} tracked: due ${m1.due}, provider calls ${m1.providerCallsSimulator}, ${m1.tickMs} ms`);
      result.ticks.push(m1);
      result.idle.push(...(await idleTicks(dev, small)));

      await register(dev, "idle", small - opts.due, large - small);
      // The idle ticks for the large set come after its measured tick (the due tasks are not due
      // again for 60 s then); wait for the due tasks' next poll time.
      const wait = dueAgainAt - Date.now();
      if (wait > 0) {
        log(`    waiting ${(wait / 1000).toFixed(0)} s until the ${opts.due} tasks are due again`);
        await new Promise((r) => setTimeout(r, wait));
      }
      const m2 = await tick(dev, large, opts.due);
      log(`    tick with ${large} tracked: due ${m2.due}, provider calls ${m2.providerCallsSimulator}, ${m2.tickMs} ms`);
      result.ticks.push(m2);
      result.idle.push(...(await idleTicks(dev, large)));
    } finally {
      await dev.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  result.registration = { ...reg, perSecond: reg.tasks / (reg.seconds || 1) };
  return result;
}
