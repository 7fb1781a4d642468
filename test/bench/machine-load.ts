// How busy the machine was while the bench ran, per phase: the 1-minute load average, and the CPU
// used by the bench's own processes (this Node process with the simulator, and every process it
// started: wrangler dev sessions and their workerd) against the CPU used by everything else —
// other work sharing the machine, which the numbers cannot subtract. Read from /proc (Linux).

import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { descendants } from "../e2e/harness.ts";

export interface PhaseLoad {
  phase: string;
  seconds: number;
  /** 1-minute load average: at the start, the highest seen, at the end. */
  loadavg: { start: number; max: number; end: number };
  /** Cores busy on average: the bench's own processes, and everything else. */
  benchCores: number;
  otherCores: number;
  cores: number;
}

const TICK = 100; // USER_HZ on Linux

function loadavg1(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/** Busy jiffies of the whole machine (all CPUs). */
function machineBusy(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all − idle − iowait
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return total - (f[3] ?? 0) - (f[4] ?? 0);
  } catch {
    return NaN;
  }
}

/** utime + stime (jiffies) of one process, or null when it is gone. */
function processCpu(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime 15
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

export class LoadMonitor {
  private timer: NodeJS.Timeout | null = null;
  private readonly seen = new Map<number, number>();
  private benchJiffies = 0;
  private phase: { name: string; t0: number; busy0: number; bench0: number; load0: number; max: number } | null = null;
  readonly phases: PhaseLoad[] = [];

  /** Samples every second (a process that ends loses at most its last second). */
  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  private sample(): void {
    const pids = [process.pid, ...descendants(process.pid)];
    for (const pid of pids) {
      const cpu = processCpu(pid);
      if (cpu === null) continue;
      const before = this.seen.get(pid);
      // A pid first seen now: count what it used since it started only if it started in this run.
      this.benchJiffies += before === undefined ? (pid === process.pid ? 0 : cpu) : Math.max(0, cpu - before);
      this.seen.set(pid, cpu);
    }
    if (this.phase) this.phase.max = Math.max(this.phase.max, loadavg1());
  }

  begin(name: string): void {
    if (this.phase) this.end();
    this.sample();
    this.phase = { name, t0: performance.now(), busy0: machineBusy(), bench0: this.benchJiffies, load0: loadavg1(), max: loadavg1() };
  }

  end(): PhaseLoad | null {
    const p = this.phase;
    if (!p) return null;
    this.sample();
    this.phase = null;
    const seconds = (performance.now() - p.t0) / 1000;
    const busy = (machineBusy() - p.busy0) / TICK;
    const bench = (this.benchJiffies - p.bench0) / TICK;
    const end = loadavg1();
    const load: PhaseLoad = {
      phase: p.name,
      seconds,
      loadavg: { start: p.load0, max: Math.max(p.max, end), end },
      benchCores: seconds > 0 ? bench / seconds : 0,
      otherCores: seconds > 0 ? Math.max(0, busy - bench) / seconds : 0,
      cores: cpus().length,
    };
    this.phases.push(load);
    return load;
  }

  stop(): void {
    this.end();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
