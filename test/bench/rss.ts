// Resident memory of processes, from /proc/<pid>/status (VmRSS), sampled on a timer.

import { readFileSync } from "node:fs";

/** VmRSS of one process in bytes; 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface RssSummary {
  /** Median of the samples taken before the measured work (see RssSampler.baseline). */
  idleBytes: number;
  peakBytes: number;
  growthBytes: number;
  samples: number;
}

/** Samples the summed VmRSS of `pids()` every `intervalMs` (the pid list is re-read each time). */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  private peak = 0;
  private count = 0;
  private idle = 0;
  private readonly pids: () => number[];
  private readonly intervalMs: number;

  constructor(pids: () => number[], intervalMs = 50) {
    this.pids = pids;
    this.intervalMs = intervalMs;
  }

  now(): number {
    return this.pids().reduce((sum, pid) => sum + rssBytes(pid), 0);
  }

  /** The idle level: median of a few samples over `ms`. */
  async baseline(ms = 1000): Promise<number> {
    const samples: number[] = [];
    const until = Date.now() + ms;
    while (Date.now() < until) {
      samples.push(this.now());
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
    samples.sort((a, b) => a - b);
    this.idle = samples[Math.floor(samples.length / 2)] ?? 0;
    return this.idle;
  }

  start(): void {
    this.peak = this.now();
    this.count = 1;
    this.timer = setInterval(() => {
      const v = this.now();
      this.count++;
      if (v > this.peak) this.peak = v;
    }, this.intervalMs);
  }

  stop(): RssSummary {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const v = this.now();
    if (v > this.peak) this.peak = v;
    return { idleBytes: this.idle, peakBytes: this.peak, growthBytes: Math.max(0, this.peak - this.idle), samples: this.count };
  }
}
