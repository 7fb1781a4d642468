// `npm run bench`: starts the provider simulator and `wrangler dev` sessions of the worker (and of
// the baseline worker in ./baseline), measures callback acks, large-WAV ingest and cron ticks,
// prints a table and writes BENCHMARKS.md.
//
//   npm run bench                      # the full run (~10 min on 2 cores); writes BENCHMARKS.md
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
import { environment, readRecorded, rows, textTable, writeBenchmarks, type BenchResults } from "./report.ts";

const HELP = `npm run bench -- [options]

  --quick            small sizes and few requests (a smoke run); does not write BENCHMARKS.md
  --only <phases>    comma-separated: ack, ingest, cron (default all)
  --out <file>       write the Markdown report here (default BENCHMARKS.md for a full run)
  --no-write         do not write a report
  --tmp <dir>        where the wrangler dev sessions keep their local state (default: the OS tmp dir)
  --rewrite          measure nothing: rewrite BENCHMARKS.md (or --out) from the raw results recorded in it
  -h, --help
`;

const KEYS = { apiToken: "bench-api-token", hmacKey: "bench-hmac-key", sunoKey: "bench-suno-key" };
const MiB = 1 << 20;

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
  const phases = new Set((values.only ?? "ack,ingest,cron").split(",").map((s) => s.trim()));
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
  const cleanup = async () => {
    await sim.stop();
    rmSync(tmpRoot, { recursive: true, force: true });
  };
  process.once("SIGINT", () => {
    void cleanup().then(() => process.exit(130));
  });

  try {
    if (phases.has("ack")) {
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
    }
    if (phases.has("ingest")) {
      const sizes = quick ? [16 * MiB, 64 * MiB] : [256 * MiB, 1024 * MiB];
      const modes: IngestMode[] = ["baseline", "worker", "worker-chunked"];
      const runs: IngestRun[] = [];
      for (const bytes of sizes) {
        for (const mode of modes) {
          log(`\n== ingest ${bytes / MiB} MiB: ${mode}`);
          const run = await benchIngest(mode, { sim, keys: KEYS, bytes, tmpRoot, log });
          log(
            `  ${run.seconds.toFixed(2)} s (${run.mibPerSecond.toFixed(0)} MiB/s), RSS idle ${(run.idleRssBytes / MiB).toFixed(1)} MiB, peak ${(run.peakRssBytes / MiB).toFixed(1)} MiB, growth ${(run.rssGrowthBytes / MiB).toFixed(1)} MiB${run.verified ? ", verified" : `, NOT VERIFIED ${run.note ?? ""}`}`,
          );
          runs.push(run);
        }
      }
      results.ingest = runs;
    }
    if (phases.has("cron")) {
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
    }
  } finally {
    await cleanup();
  }
  results.seconds = (Date.now() - started) / 1000;

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
