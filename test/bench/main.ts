// `npm run bench`: starts the provider simulator and `wrangler dev` sessions of the worker (and of
// the baseline worker in ./baseline), measures callback acks (WAV and music), large-WAV ingest,
// a four-file task, resume after a cut source, a killed runtime and time slices, ingest with and
// without waveform peaks, and cron ticks; prints a table and writes BENCHMARKS.md.
//
//   npm run bench                      # the full run (~20 min on 2 cores); writes BENCHMARKS.md
//   npm run bench -- --quick           # small sizes, few requests; prints only
//   npm run bench -- --only ack,cron   # some phases
//   npm run bench -- --help

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../e2e/harness.ts";
import { startSimulator } from "../simulator/simulator.ts";
import { benchAck } from "./ack.ts";
import { benchCron } from "./cron.ts";
import { benchIngest, type IngestMode, type IngestRun } from "./ingest.ts";
import { LoadMonitor } from "./machine-load.ts";
import { benchMultiFile } from "./multifile.ts";
import { benchMusicAck } from "./music.ts";
import { benchPeaks } from "./peaks.ts";
import { environment, readRecorded, rows, textTable, writeBenchmarks, type BenchResults } from "./report.ts";
import { benchResume } from "./resume.ts";

const HELP = `npm run bench -- [options]

  --quick            small sizes and few requests (a smoke run); does not write BENCHMARKS.md
  --only <phases>    comma-separated: ack, music, ingest, multifile, resume, peaks, cron (default all)
  --out <file>       write the Markdown report here (default BENCHMARKS.md for a full run)
  --no-write         do not write a report
  --tmp <dir>        where the wrangler dev sessions keep their local state (default: the OS tmp dir)
  --rewrite          measure nothing: rewrite BENCHMARKS.md (or --out) from the raw results recorded in it
  -h, --help
`;

const KEYS = { apiToken: "bench-api-token", hmacKey: "bench-hmac-key", sunoKey: "bench-suno-key" };
const MiB = 1 << 20;
const PHASES = ["ack", "music", "ingest", "multifile", "resume", "peaks", "cron"] as const;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      out: { type: "string" },
      "no-write": { type: "boolean" },
      tmp: { type: "string" },
      rewrite: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.rewrite) {
    const path = values.out ?? join(REPO_ROOT, "BENCHMARKS.md");
    const { results, env } = readRecorded(path);
    writeBenchmarks(path, results, env);
    process.stdout.write(`${textTable(rows(results))}\n\nrewrote ${path}\n`);
    return 0;
  }
  const quick = values.quick === true;
  const phases = new Set((values.only ?? PHASES.join(",")).split(",").map((s) => s.trim()));
  const unknown = [...phases].filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length > 0) {
    process.stderr.write(`unknown phase ${unknown.join(", ")}; there are ${PHASES.join(", ")}\n`);
    return 2;
  }
  // All temporary state of this run lives under one directory, removed at the end.
  const tmpRoot = mkdtempSync(join(values.tmp ?? tmpdir(), "wav-edge-bench-"));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  const results: BenchResults = { quick, startedAt: new Date(started).toISOString(), seconds: 0, tmpRoot: values.tmp ?? tmpdir() };

  const sim = await startSimulator({
    port: 0,
    apiKey: KEYS.sunoKey,
    hmacKey: KEYS.hmacKey,
    triggerCron: false,
    callbackRetryDelaysMs: [],
  });
  const load = new LoadMonitor();
  load.start();
  const cleanup = async () => {
    load.stop();
    await sim.stop();
    rmSync(tmpRoot, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    void cleanup().then(() => process.exit(130));
  });

  // A phase that throws is recorded (results.errors) and the run goes on with the next one.
  const phase = async (name: string, fn: () => Promise<void>) => {
    if (!phases.has(name)) return;
    load.begin(name);
    try {
      await fn();
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      (results.errors ??= {})[name] = message.slice(0, 2000);
      log(`  ${name} FAILED: ${(err as Error).stack ?? message}`);
    }
  };
  try {
    await phase("ack", async () => {
      log(`\n== callback ack vs /healthz`);
      results.ack = await benchAck({
        sim,
        keys: KEYS,
        connections: 50,
        seconds: quick ? 3 : 15,
        warmupSeconds: quick ? 1 : 3,
        wavBytes: 4096,
        tmpRoot,
        log,
      });
    });
    await phase("music", async () => {
      log(`\n== music callbacks (complete, two tracks) vs /healthz`);
      results.music = await benchMusicAck({
        sim,
        keys: KEYS,
        connections: 50,
        seconds: quick ? 3 : 15,
        warmupSeconds: quick ? 1 : 3,
        sample: 20,
        storedTimeoutMs: quick ? 60_000 : 180_000,
        tmpRoot,
        log,
      });
    });
    await phase("ingest", async () => {
      const sizes = quick ? [16 * MiB, 64 * MiB] : [256 * MiB, 1024 * MiB];
      const modes: IngestMode[] = ["baseline", "worker", "worker-chunked"];
      // One run of each is at the mercy of the VM's disk and neighbours (the same 1 GiB ingest has
      // measured 19 s and 30 s an hour apart): rounds of every mode in turn, the median of each.
      const rounds = quick ? 1 : 3;
      const runs: IngestRun[] = [];
      for (const bytes of sizes) {
        for (let round = 1; round <= rounds; round++) {
          for (const mode of modes) {
            log(`\n== ingest ${bytes / MiB} MiB: ${mode}${rounds > 1 ? `, round ${round} of ${rounds}` : ""}`);
            const run = await benchIngest(mode, { sim, keys: KEYS, bytes, tmpRoot, log });
            log(
              `  ${run.seconds.toFixed(2)} s (${run.mibPerSecond.toFixed(0)} MiB/s), RSS idle ${(run.idleRssBytes / MiB).toFixed(1)} MiB, peak ${(run.peakRssBytes / MiB).toFixed(1)} MiB, growth ${(run.rssGrowthBytes / MiB).toFixed(1)} MiB${run.verified ? ", verified" : `, NOT VERIFIED ${run.note ?? ""}`}`,
            );
            runs.push(run);
          }
        }
      }
      results.ingest = runs;
    });
    await phase("multifile", async () => {
      const bytes = quick ? 8 * MiB : 64 * MiB;
      log(`\n== a four-file task (stems, 4 × ${bytes / MiB} MiB MP3 with Content-Length) vs four bare puts`);
      results.multifile = await benchMultiFile({ sim, keys: KEYS, bytes, tmpRoot, log });
    });
    await phase("resume", async () => {
      log(`\n== resume economy`);
      results.resume = await benchResume(
        {
          sim,
          keys: KEYS,
          bytes: quick ? 128 * MiB : 1024 * MiB,
          killBps: 32 * MiB,
          sliceSeconds: quick ? 1 : 3,
          // Not a whole number of 8 MiB parts (as a WAV's size seldom is; see the notes on a file that is).
          sliceBytes: (quick ? 80 * MiB : 160 * MiB) + 4242,
          sliceBps: 16 * MiB,
          tmpRoot,
          log,
        },
        { cut: true, kill: true, slices: true },
      );
    });
    await phase("peaks", async () => {
      const bytes = quick ? 64 * MiB : 1024 * MiB;
      log(`\n== ingest ${bytes / MiB} MiB WAV with waveform peaks vs without (WAVEFORM_PEAKS=false)`);
      results.peaks = await benchPeaks({ sim, keys: KEYS, bytes, rounds: quick ? 1 : 3, tmpRoot, log });
    });
    await phase("cron", async () => {
      log(`\n== cron tick`);
      results.cron = await benchCron({
        sim,
        keys: KEYS,
        due: quick ? 20 : 100,
        tracked: quick ? [200, 1000] : [1000, 10_000],
        idleTicks: 5,
        registerConcurrency: 20,
        tmpRoot,
        log,
      });
    });
    load.end();
  } finally {
    await cleanup();
  }
  results.seconds = (Date.now() - started) / 1000;
  results.load = load.phases;
  for (const l of load.phases) {
    log(`load during ${l.phase}: ${l.seconds.toFixed(0)} s, load average ${l.loadavg.start.toFixed(2)} → ${l.loadavg.max.toFixed(2)} → ${l.loadavg.end.toFixed(2)}, bench ${l.benchCores.toFixed(2)} cores, other work ${l.otherCores.toFixed(2)} cores`);
  }

  const env = environment(values.tmp ?? tmpdir());
  log(`\n${textTable(rows(results))}\n`);
  const out = values["no-write"] ? null : (values.out ?? (quick ? null : join(REPO_ROOT, "BENCHMARKS.md")));
  if (out) {
    writeBenchmarks(out, results, env);
    log(`wrote ${out}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
