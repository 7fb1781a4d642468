// Issue 20: ingest of a large WAV with waveform peaks (the default) against the same without
// (the worker setting WAVEFORM_PEAKS=false): callback → stored, each run in a fresh session as
// ./ingest.ts does it. The two alternate (without, with, without, with, …) so that a change in
// the machine's load falls on both; each side's time is the median of its runs.

import type { Simulator } from "../simulator/simulator.ts";
import { benchIngest, type IngestRun } from "./ingest.ts";
import type { Keys } from "./tasks.ts";

export interface PeaksOptions {
  sim: Simulator;
  keys: Keys;
  bytes: number;
  rounds: number;
  tmpRoot?: string;
  log: (line: string) => void;
}

export interface PeaksResult {
  bytes: number;
  rounds: number;
  with: IngestRun[];
  without: IngestRun[];
}

export async function benchPeaks(opts: PeaksOptions): Promise<PeaksResult> {
  const out: PeaksResult = { bytes: opts.bytes, rounds: opts.rounds, with: [], without: [] };
  const mib = (b: number) => `${(b / (1 << 20)).toFixed(1)} MiB`;
  for (let i = 0; i < opts.rounds; i++) {
    for (const peaks of [false, true]) {
      const run = await benchIngest("worker", {
        sim: opts.sim,
        keys: opts.keys,
        bytes: opts.bytes,
        log: opts.log,
        ...(opts.tmpRoot ? { tmpRoot: opts.tmpRoot } : {}),
        ...(peaks ? {} : { vars: { WAVEFORM_PEAKS: "false" } }),
      });
      opts.log(
        `  round ${i + 1}, ${peaks ? "with peaks   " : "without peaks"}: ${run.seconds.toFixed(2)} s (${run.mibPerSecond.toFixed(0)} MiB/s), RSS growth ${mib(run.rssGrowthBytes)}${run.verified ? ", verified" : `, NOT VERIFIED ${run.note ?? ""}`}`,
      );
      (peaks ? out.with : out.without).push(run);
    }
  }
  return out;
}
