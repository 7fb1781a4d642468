// Turns the bench's measurements into a table (console and Markdown), judges them against the
// targets, and writes BENCHMARKS.md (keeping its hand-written notes section).

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../e2e/harness.ts";
import type { AckResult } from "./ack.ts";
import type { CronResult } from "./cron.ts";
import type { IngestMode, IngestRun } from "./ingest.ts";
import type { LoadResult } from "./load.ts";
import type { PhaseLoad } from "./machine-load.ts";
import type { MultiFileResult } from "./multifile.ts";
import type { MusicAckResult } from "./music.ts";
import type { PeaksResult } from "./peaks.ts";
import { PART_BYTES, type InterruptionRun, type ResumeResult } from "./resume.ts";

export interface BenchResults {
  quick: boolean;
  startedAt: string;
  seconds: number;
  tmpRoot: string;
  ack?: AckResult;
  music?: MusicAckResult;
  ingest?: IngestRun[];
  multifile?: MultiFileResult;
  resume?: ResumeResult;
  peaks?: PeaksResult;
  cron?: CronResult;
  /** How busy the machine was, per phase (./machine-load.ts). */
  load?: PhaseLoad[];
  /** Phases whose measurement threw, with the message. */
  errors?: Record<string, string>;
}

export interface Row {
  measure: string;
  value: string;
  reference: string;
  ratio: string;
  target: string;
  result: "PASS" | "MISS" | "";
}

export interface Environment {
  cpuModel: string;
  cores: number;
  memory: string;
  kernel: string;
  node: string;
  wrangler: string;
  workerd: string;
  tmpFs: string;
  /** The commit measured, and whether src/ or wrangler.toml had uncommitted changes. */
  commit?: string;
}

const MiB = 1 << 20;
const fmtBytes = (b: number) => (b >= 1 << 30 && b % (1 << 30) === 0 ? `${b / (1 << 30)} GiB` : `${Math.round(b / MiB)} MiB`);
const fmtMiB = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
const fmtMs = (ms: number) => `${ms.toFixed(0)} ms`;
const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : "n/a");
/** A latency percentile, or a dash when no request completed in the window (a worker too busy to answer any). */
const lat = (l: LoadResult, k: "p50" | "p99") => (l.ok2xx === 0 ? "— (no answer completed in the window)" : fmtMs(l.latencyMs[k]));
const fmtExcess = (b: number) => `${b >= 0 ? "+" : "−"}${(Math.abs(b) / MiB).toFixed(1)} MiB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

export function environment(tmpRoot: string): Environment {
  let workerd = pkgVersion("workerd");
  try {
    const bin = join(REPO_ROOT, "node_modules/@cloudflare/workerd-linux-64/bin/workerd");
    if (existsSync(bin)) workerd += ` (${execFileSync(bin, ["--version"], { encoding: "utf8" }).trim()})`;
  } catch {
    // version from package.json only
  }
  let tmpFs = "?";
  try {
    tmpFs = execFileSync("findmnt", ["-n", "-o", "FSTYPE", "-T", tmpRoot], { encoding: "utf8" }).trim();
  } catch {
    // unknown
  }
  let commit = "?";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "wrangler.toml"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    if (dirty) commit += " (with uncommitted changes in src/ or wrangler.toml)";
  } catch {
    // not a git checkout
  }
  return {
    commit,
    cpuModel: cpus()[0]?.model.trim() ?? "?",
    cores: cpus().length,
    memory: `${(totalmem() / (1 << 30)).toFixed(1)} GiB`,
    kernel: `Linux ${release()}`,
    node: process.version,
    wrangler: pkgVersion("wrangler"),
    workerd,
    tmpFs: `${tmpRoot} (${tmpFs})`,
  };
}

export function rows(r: BenchResults): Row[] {
  const out: Row[] = [];
  if (r.ack) {
    const { healthz: h, callbacks: c, connections } = r.ack;
    out.push({
      measure: `Success callback ack p50, concurrency ${connections}`,
      value: lat(c, "p50"),
      reference: `/healthz ${lat(h, "p50")}`,
      ratio: fmtRatio(c.latencyMs.p50 / h.latencyMs.p50),
      target: "",
      result: "",
    });
    // Targets (issue "Task state in warm shard objects"): success callbacks, with transfers running
    // behind them, p99 ≤ 3× /healthz; failure callbacks for new tasks p99 ≤ 2× and ≥ 0.5× req/s.
    const p99 = c.latencyMs.p99 / h.latencyMs.p99;
    const errs = c.non2xx + c.errors + c.timeouts;
    out.push({
      measure: `Success callback ack p99 (transfers behind them), concurrency ${connections}`,
      value: lat(c, "p99"),
      reference: `/healthz ${lat(h, "p99")}`,
      ratio: fmtRatio(p99),
      target: "≤ 3×",
      result: p99 <= 3 && errs === 0 ? "PASS" : "MISS",
    });
    out.push({
      measure: `Success callback throughput, concurrency ${connections}`,
      value: `${c.rps.toFixed(0)} req/s${errs ? ` (${errs} not 2xx)` : ""}`,
      reference: `/healthz ${h.rps.toFixed(0)} req/s`,
      ratio: fmtRatio(c.rps / h.rps),
      target: "",
      result: "",
    });
    if (r.ack.failures) {
      const f = r.ack.failures;
      const fp99 = f.latencyMs.p99 / h.latencyMs.p99;
      const ferrs = f.non2xx + f.errors + f.timeouts;
      out.push({
        measure: `Failure callback ack p99 (new tasks, no transfer), concurrency ${connections}`,
        value: `${lat(f, "p99")} (p50 ${lat(f, "p50")})`,
        reference: `/healthz ${lat(h, "p99")}`,
        ratio: fmtRatio(fp99),
        target: "≤ 2×",
        result: fp99 <= 2 && ferrs === 0 ? "PASS" : "MISS",
      });
      const ftput = f.rps / h.rps;
      out.push({
        measure: `Failure callback throughput, concurrency ${connections}`,
        value: `${f.rps.toFixed(0)} req/s${ferrs ? ` (${ferrs} not 2xx)` : ""}`,
        reference: `/healthz ${h.rps.toFixed(0)} req/s`,
        ratio: fmtRatio(ftput),
        target: "≥ 0.5×",
        result: ftput >= 0.5 && ferrs === 0 ? "PASS" : "MISS",
      });
    }
    if (r.ack.floor) {
      const f = r.ack.floor;
      out.push({
        measure: `(reference) success callbacks vs a new Durable Object + 1 write per request, concurrency ${connections}`,
        value: `p50 ${lat(c, "p50")}, p99 ${lat(c, "p99")}, ${c.rps.toFixed(0)} req/s`,
        reference: `floor: p50 ${lat(f, "p50")}, p99 ${lat(f, "p99")}, ${f.rps.toFixed(0)} req/s`,
        ratio: `p99 ${fmtRatio(c.latencyMs.p99 / f.latencyMs.p99)}, req/s ${fmtRatio(c.rps / f.rps)}`,
        target: "",
        result: "",
      });
    }
  }
  if (r.music) {
    // Target (issue 17, "Performance"): p99 ≤ 2× /healthz of the same session, all four files stored.
    const { healthz: h, callbacks: c, connections, storedAfter: s } = r.music;
    const p99 = c.latencyMs.p99 / h.latencyMs.p99;
    const errs = c.non2xx + c.errors + c.timeouts;
    out.push({
      measure: `Music callbacks (complete, 2 tracks: 2 MP3 + 2 JPEG) ack p99, concurrency ${connections}`,
      value: `${lat(c, "p99")} (p50 ${lat(c, "p50")})${errs ? ` (${errs} not 2xx)` : ""}`,
      reference: `/healthz ${lat(h, "p99")} (p50 ${lat(h, "p50")})`,
      ratio: fmtRatio(p99),
      target: "≤ 2×",
      result: p99 <= 2 && errs === 0 ? "PASS" : "MISS",
    });
    out.push({
      measure: `Music callbacks throughput, concurrency ${connections}`,
      value: `${c.rps.toFixed(0)} req/s`,
      reference: `/healthz ${h.rps.toFixed(0)} req/s`,
      ratio: fmtRatio(c.rps / h.rps),
      target: "",
      result: "",
    });
    out.push({
      measure: `Music callbacks: sampled tasks stored with all four files`,
      value: `${s.allFour} of ${s.checked} (the last ${s.seconds.toFixed(0)} s after the load)`,
      reference: `${s.checked} sampled over the run`,
      ratio: fmtRatio(s.checked ? s.allFour / s.checked : NaN),
      target: "all",
      result: s.checked > 0 && s.allFour === s.checked ? "PASS" : "MISS",
    });
  }
  if (r.ingest) {
    const sizes = [...new Set(r.ingest.map((x) => x.bytes))];
    for (const bytes of sizes) {
      // Each mode ran one or more rounds: its time and its memory growth are the medians of them.
      const of = (mode: IngestMode) => {
        const runs = r.ingest!.filter((x) => x.bytes === bytes && x.mode === mode);
        if (runs.length === 0) return null;
        /** Every round's value, when there was more than one: " (a, b, c)". */
        const each = (fmt: (x: IngestRun) => string, unit = "") => (runs.length > 1 ? ` (${unit}${runs.map(fmt).join(", ")})` : "");
        return {
          chunked: runs[0]!.chunked,
          seconds: median(runs.map((x) => x.seconds)),
          growth: median(runs.map((x) => x.rssGrowthBytes)),
          idle: median(runs.map((x) => x.idleRssBytes)),
          verified: runs.every((x) => x.verified),
          note: runs.find((x) => x.note)?.note,
          times: each((x) => x.seconds.toFixed(2)),
          growths: each((x) => (x.rssGrowthBytes / (1 << 20)).toFixed(0), "MiB: "),
          rounds: runs.length,
        };
      };
      const base = of("baseline");
      for (const mode of ["worker", "worker-chunked"] as const) {
        const run = of(mode);
        if (!run) continue;
        const rounds = run.rounds > 1 ? `, median of ${run.rounds}` : "";
        const label = `Ingest ${fmtBytes(bytes)}, ${run.chunked ? "chunked source" : "Content-Length source"}`;
        const baseLabel = run.chunked ? "baseline (Content-Length)" : "baseline";
        const okNote = run.verified ? "" : ` (NOT VERIFIED${run.note ? `: ${run.note}` : ""})`;
        // Targets (issue 18, "Measured"): with Content-Length ≤ 1.15× the bare put's time and
        // ≤ 1.25× its memory growth; chunked sources against the same baseline ≤ 1.3×.
        const timeTarget = run.chunked ? 1.3 : 1.15;
        const memTarget = run.chunked ? 1.3 : 1.25;
        const t = base ? run.seconds / base.seconds : NaN;
        out.push({
          measure: `${label}: callback → stored${rounds}`,
          value: `${run.seconds.toFixed(2)} s (${(bytes / (1 << 20) / run.seconds).toFixed(0)} MiB/s)${run.times}${okNote}`,
          reference: base ? `${baseLabel} ${base.seconds.toFixed(2)} s${base.times}` : "no baseline",
          ratio: fmtRatio(t),
          target: `≤ ${timeTarget}×`,
          result: t <= timeTarget && run.verified ? "PASS" : "MISS",
        });
        const m = base ? run.growth / base.growth : NaN;
        out.push({
          measure: `${label}: peak RSS growth${rounds}`,
          value: `${fmtMiB(run.growth)} (idle ${fmtMiB(run.idle)})${run.growths}`,
          reference: base ? `${baseLabel} ${fmtMiB(base.growth)} (idle ${fmtMiB(base.idle)})${base.growths}` : "no baseline",
          ratio: fmtRatio(m),
          target: `≤ ${memTarget}×`,
          result: m <= memTarget ? "PASS" : "MISS",
        });
      }
    }
  }
  if (r.multifile) {
    // Target (issue 17, "Performance"): ≤ 1.3× the sum of four bare R2 puts.
    const m = r.multifile;
    const ratio = m.seconds / m.baselineSum;
    out.push({
      measure: `${m.files}-file task (stems callback, ${m.files} × ${fmtBytes(m.bytesEach)} MP3 with Content-Length): callback → stored`,
      value: `${m.seconds.toFixed(2)} s${m.verified ? "" : ` (NOT VERIFIED${m.note ? `: ${m.note}` : ""})`}`,
      reference: `sum of ${m.files} bare puts ${m.baselineSum.toFixed(2)} s (${m.files} at once: ${m.baselineParallel.toFixed(2)} s)`,
      ratio: fmtRatio(ratio),
      target: "≤ 1.3×",
      result: ratio <= 1.3 && m.verified && m.baselineVerified ? "PASS" : "MISS",
    });
  }
  if (r.resume) {
    // Target (issue 18, "Measured"): after an interruption, bytes fetched ≤ the remainder + one part.
    const row = (run: InterruptionRun, measure: string) => {
      const bad = run.verified ? "" : ` (NOT VERIFIED${run.note ? `: ${run.note}` : ""})`;
      out.push({
        measure,
        value:
          `${fmtMiB(run.fetchedAfter)} (resumed from ${run.resumedFrom === null ? "?" : fmtMiB(run.resumedFrom)}, HTTP ${run.resumedStatus ?? "?"}` +
          (run.queuedInSockets !== null && run.readNotCheckpointed !== null && run.readNotCheckpointed !== undefined
            ? `; the excess: ${fmtMiB(run.queuedInSockets)} in socket buffers at the ${run.how}, ${fmtMiB(run.readNotCheckpointed)} read but not checkpointed`
            : "") +
          `)${bad}`,
        reference: `remainder ${fmtMiB(run.remainder)} + one part (${PART_BYTES / MiB} MiB)`,
        ratio: fmtExcess(run.excess),
        target: `excess ≤ ${PART_BYTES / MiB} MiB`,
        result: run.excess <= PART_BYTES && run.verified ? "PASS" : "MISS",
      });
    };
    if (r.resume.cut) row(r.resume.cut, `Resume: source cut at ~50% of ${fmtBytes(r.resume.cut.bytes)}, then POST /retry: fetched after the cut`);
    if (r.resume.kill) row(r.resume.kill, `Resume: SIGKILL of wrangler dev (workerd included) at ~50% of ${fmtBytes(r.resume.kill.bytes)}, new session: fetched after the restart`);
    const sl = r.resume.slices;
    if (sl) {
      const label = `Time slices (TRANSFER_SLICE_SECONDS=${sl.sliceSeconds}, ${fmtBytes(sl.bytes)} at ${fmtBytes(sl.bps)}/s ≈ ${(sl.bytes / sl.bps).toFixed(0)} s)`;
      const bad = sl.verified ? "" : ` (NOT VERIFIED${sl.note ? `: ${sl.note}` : ""})`;
      out.push({
        measure: `${label}: invocations (requests to the source)`,
        value: `${sl.invocations}${bad}`,
        reference: "≥ 3",
        ratio: "",
        target: "≥ 3",
        result: sl.invocations >= 3 && sl.verified ? "PASS" : "MISS",
      });
      out.push({
        measure: `${label}: bytes fetched`,
        value: `${fmtMiB(sl.fetched)} (fetched again at each pause: ${(sl.wastedPerPause ?? []).map((b) => (b / MiB).toFixed(1)).join(", ")} MiB; stored in ${sl.seconds.toFixed(1)} s)${bad}`,
        reference: `size ${fmtMiB(sl.bytes)} + one part (${PART_BYTES / MiB} MiB)`,
        ratio: fmtExcess(sl.excess),
        target: `excess ≤ ${PART_BYTES / MiB} MiB`,
        result: sl.excess <= PART_BYTES && sl.verified ? "PASS" : "MISS",
      });
    }
  }
  for (const [k, message] of Object.entries(r.resume?.errors ?? {})) {
    out.push({ measure: `Resume (${k}): the measurement failed`, value: message.split("\n")[0]!.slice(0, 300), reference: "", ratio: "", target: "a result", result: "MISS" });
  }
  if (r.peaks && r.peaks.with.length > 0 && r.peaks.without.length > 0) {
    // Target (issue 20): ingest with peaks ≤ 1.10× without.
    const p = r.peaks;
    const w = median(p.with.map((x) => x.seconds));
    const wo = median(p.without.map((x) => x.seconds));
    const ok = p.with.every((x) => x.verified && x.waveform === true) && p.without.every((x) => x.verified && x.waveform === false);
    const ratio = w / wo;
    const list = (xs: IngestRun[]) => xs.map((x) => x.seconds.toFixed(2)).join(", ");
    out.push({
      measure: `Ingest ${fmtBytes(p.bytes)} WAV with waveform peaks vs without (WAVEFORM_PEAKS=false), median of ${p.rounds}`,
      value: `${w.toFixed(2)} s (${list(p.with)})${ok ? "" : " (NOT VERIFIED: a file or its waveform is not as expected)"}`,
      reference: `without ${wo.toFixed(2)} s (${list(p.without)})`,
      ratio: fmtRatio(ratio),
      target: "≤ 1.1×",
      result: ratio <= 1.1 && ok ? "PASS" : "MISS",
    });
  }
  if (r.cron) {
    for (const t of r.cron.ticks) {
      const ok = t.providerCallsSimulator === t.expectedDue && t.due === t.expectedDue && t.providerCallsWorker === t.expectedDue;
      out.push({
        measure: `Cron tick, ${t.tracked.toLocaleString("en-US")} tracked / ${t.expectedDue} due: provider calls`,
        value: `${t.providerCallsSimulator} (worker says due ${t.due}, calls ${t.providerCallsWorker})`,
        reference: `${t.expectedDue} due`,
        ratio: fmtRatio(t.providerCallsSimulator / t.expectedDue),
        target: "= due",
        result: ok ? "PASS" : "MISS",
      });
    }
    const [a, b] = r.cron.ticks;
    if (a && b) {
      const ratio = b.tickMs / a.tickMs;
      out.push({
        measure: `Cron tick time, ${r.cron.due} due: ${a.tracked.toLocaleString("en-US")} → ${b.tracked.toLocaleString("en-US")} tracked`,
        value: `${fmtMs(b.tickMs)} (request ${fmtMs(b.requestMs)})`,
        reference: `${fmtMs(a.tickMs)} (request ${fmtMs(a.requestMs)})`,
        ratio: fmtRatio(ratio),
        target: "flat (≤ 1.5× or +50 ms)",
        result: ratio <= 1.5 || b.tickMs - a.tickMs <= 50 ? "PASS" : "MISS",
      });
      const ia = median(r.cron.idle.filter((t) => t.tracked === a.tracked).map((t) => t.tickMs));
      const ib = median(r.cron.idle.filter((t) => t.tracked === b.tracked).map((t) => t.tickMs));
      if (Number.isFinite(ia) && Number.isFinite(ib)) {
        const ir = ib / ia;
        out.push({
          measure: `Cron tick time, nothing due (median of ${r.cron.idle.length / 2}): ${a.tracked.toLocaleString("en-US")} → ${b.tracked.toLocaleString("en-US")} tracked`,
          value: fmtMs(ib),
          reference: fmtMs(ia),
          ratio: fmtRatio(ir),
          target: "flat (≤ 1.5× or +50 ms)",
          result: ir <= 1.5 || ib - ia <= 50 ? "PASS" : "MISS",
        });
      }
    }
  }
  return [...out, ...errorRows(r)];
}

function errorRows(r: BenchResults): Row[] {
  return Object.entries(r.errors ?? {}).map(([phase, message]) => ({
    measure: `Phase "${phase}": the measurement failed`,
    value: message.split("\n")[0]!.slice(0, 300),
    reference: "",
    ratio: "",
    target: "a result",
    result: "MISS" as const,
  }));
}

export function textTable(rs: Row[]): string {
  const head: Row = { measure: "measure", value: "this worker", reference: "reference", ratio: "ratio", target: "target", result: "" };
  const all = [head, ...rs];
  const keys = ["measure", "value", "reference", "ratio", "target", "result"] as const;
  const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  return all.map((r) => keys.map((k, i) => r[k].padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

function mdTable(rs: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const lines = ["| Measure | This worker | Reference | Ratio | Target | Result |", "| --- | --- | --- | --- | --- | --- |"];
  for (const r of rs) lines.push(`| ${[r.measure, r.value, r.reference, r.ratio, r.target, r.result ? `**${r.result}**` : ""].map(esc).join(" | ")} |`);
  return lines.join("\n");
}

const NOTES_START = "<!-- notes:start -->";
const NOTES_END = "<!-- notes:end -->";

export function markdown(r: BenchResults, env: Environment, previous: string | null): string {
  const rs = rows(r);
  const judged = rs.filter((x) => x.result !== "");
  const passed = judged.filter((x) => x.result === "PASS").length;
  let notes = `${NOTES_START}\n_No notes yet._\n${NOTES_END}`;
  if (previous) {
    const a = previous.indexOf(NOTES_START);
    const b = previous.indexOf(NOTES_END);
    if (a >= 0 && b > a) notes = previous.slice(a, b + NOTES_END.length);
  }
  const ack = r.ack;
  const sizes = [...new Set((r.ingest ?? []).map((x) => x.bytes))].map(fmtBytes).join(" and ");
  const ingestRounds = (r.ingest ?? []).filter((x) => x.mode === "baseline" && x.bytes === r.ingest![0]!.bytes).length;
  const music = r.music;
  const mf = r.multifile;
  const rs_ = r.resume;
  const pk = r.peaks;
  const loads = r.load ?? [];
  const fmtCores = (n: number) => n.toFixed(2);
  const otherMean = loads.length ? loads.reduce((a, l) => a + l.otherCores * l.seconds, 0) / Math.max(1, loads.reduce((a, l) => a + l.seconds, 0)) : NaN;
  const loadTable = loads.length
    ? [
        "| Phase | Seconds | Load average (1 min): start → highest → end | CPU of the bench's processes (cores) | CPU of other work on the machine (cores) |",
        "| --- | --- | --- | --- | --- |",
        ...loads.map((l) => `| ${l.phase} | ${l.seconds.toFixed(0)} | ${l.loadavg.start.toFixed(2)} → ${l.loadavg.max.toFixed(2)} → ${l.loadavg.end.toFixed(2)} | ${fmtCores(l.benchCores)} | ${fmtCores(l.otherCores)} |`),
      ].join("\n")
    : "_Not recorded._";
  return `# Benchmarks

Measured by \`npm run bench\` (test/bench/main.ts) on ${r.startedAt.slice(0, 10)}, one run, ${(r.seconds / 60).toFixed(1)} minutes${r.quick ? " (**quick mode**: small sizes, few requests — a smoke run, not a measurement)" : ""}.
Everything runs locally: the worker under \`wrangler dev\` (workerd, local Durable Objects and R2 on disk),
the provider simulator (test/simulator) in the bench's own Node process. Re-run with \`npm run bench\`;
\`npm run bench -- --quick\` is a smoke run that does not write this file.

## Machine

| | |
| --- | --- |
| CPU | ${env.cpuModel}, ${env.cores} cores |
| Memory | ${env.memory} |
| OS | ${env.kernel} |
| Node | ${env.node} |
| wrangler | ${env.wrangler} |
| workerd | ${env.workerd} |
| Local state (\`--persist-to\`) | ${env.tmpFs} |
| Worker measured | commit ${env.commit ?? "?"} |
| Other work during the run | ${Number.isFinite(otherMean) ? `${otherMean.toFixed(2)} of ${env.cores} cores busy on average with processes that are not the bench's (per phase below)` : "not recorded"} |

### Load during the run

Other work can run on the machine beside the bench, and the numbers cannot subtract it. CPU is
read from /proc every second: the bench's processes (its Node process with the simulator, every
\`wrangler dev\` session and workerd it started) and the rest of the machine's busy time.

${loadTable}

## Results

${mdTable(rs)}

${passed} of ${judged.length} targets met.

## Method

- **Callback ack**${ack ? ` (${ack.seconds} s per side, concurrency ${ack.connections})` : ""}: autocannon with ${ack?.connections ?? 50} connections,
  one request in flight on each, for a fixed time: first \`GET /healthz\`, then \`POST /callbacks/wav\` on the
  same \`wrangler dev\` session, after a warm-up of both. Every callback is signed (HMAC as the provider
  does it) and names a new task, so each one is recorded in the task's shard (an object that exists
  already) and, behind the answer, makes the task's runner object, which transfers a small WAV from the
  simulator and reports back — as in production, where each callback is a new task.
  Throughput is 2xx answers per second of wall time. Afterwards a sample of the acknowledged tasks is
  checked to be \`stored\`${ack ? ` (${ack.storedAfter.stored} of ${ack.storedAfter.checked})` : ""}. The "(reference)" row runs the same load against
  test/bench/floor, a worker that only writes one row into a new Durable Object per request: what making
  one new object costs on this machine (each success callback makes one runner behind its answer). It has
  no target. The "failure callback" rows send signed failure callbacks (code 451) for new tasks to a fresh
  session: the same ack path, with no runner and no transfer behind it.
- **Music callbacks**${music ? ` (${music.seconds} s per side, concurrency ${music.connections})` : ""}: as the callback ack, on a fresh
  session with its own \`/healthz\` measurement: signed \`complete\` callbacks to \`/callbacks/music\`, each
  a new task with two tracks (an MP3 and a JPEG cover each: the simulator's small fixtures, 8–12 KB), so
  four transfers run behind every answer. Afterwards ${music ? music.storedAfter.checked : 20} of the acknowledged tasks, spread over the run (the
  last one included), are checked to end \`stored\` with all four files stored (size and sha256 given).
- **Ingest** (${sizes || "n/a"}${ingestRounds > 1 ? `, ${ingestRounds} rounds` : ""}): one WAV served by the simulator (made on the fly, hashed as it is sent).${ingestRounds > 1 ? ` Each round runs the baseline, then the worker with Content-Length, then chunked; a row is the median of its rounds (time and memory growth each), with every round's value beside it: a single run on this VM moves by a third from one hour to the next.` : ""} Each
  run starts a fresh \`wrangler dev\` session with fresh local state, pushes a 1 MiB WAV through the same path
  to warm it up, takes the idle RSS (median over 1 s), then measures. Worker: from sending the signed
  callback until \`GET /api/tasks/:id\` (polled every 100 ms) says \`stored\`; the stored size and sha256 are
  checked against what the simulator served. Baseline: test/bench/baseline, a worker whose only route does
  \`await env.BUCKET.put(key, (await fetch(url)).body)\`, timed from request to response. Memory: VmRSS of
  the workerd process that runs the worker (not wrangler's proxy in front of it), read from
  /proc/<pid>/status every 50 ms; growth = peak − idle. R2's \`put\` needs a known length, so the baseline
  exists only for a Content-Length source; the chunked runs are compared against the Content-Length
  baseline. Files above 64 MiB go up in the worker as a checkpointed multipart upload of 8 MiB parts
  (README, "Resumable transfers"), with or without Content-Length; a WAV's waveform peaks are computed
  as it streams (the default).
- **Four-file task**${mf ? ` (${mf.files} × ${fmtBytes(mf.bytesEach)})` : ""}: a signed stems callback naming four MP3s (\`vocal\`, \`drums\`, \`bass\`,
  \`guitar\`) that the simulator generates (\`/media/<name>.mp3?bytes=<n>\`: an ID3 tag, then a pattern of its
  own per name) and serves with Content-Length; from sending the callback until the task is \`stored\`
  (each file's size and sha256 checked against what was served). The worker runs up to four of a task's
  transfers at once. Reference: the same-sized files put into R2 by test/bench/baseline one after the
  other, each timed, summed (the target's "sum of four bare puts"); four baseline puts at once are shown
  beside it. Fresh sessions, each warmed up through the same path with 1 MiB files.
- **Resume economy**${rs_?.cut ? ` (${fmtBytes(rs_.cut.bytes)})` : ""}: the simulator serves the WAV with Content-Length, an ETag, Last-Modified and
  \`Range: bytes=<n>-\` (206, \`If-Range\` honoured), and records every request's range start and bytes
  sent (bytes handed to the kernel). *Cut*: \`?cutOnce=\` destroys the connection when the file's offset
  reaches ~50% (not a part boundary), the first request only; once \`GET /api/tasks/:id\` shows the failed
  attempt, \`POST /api/tasks/:id/retry\` runs the next one at once (instead of after the 30 s backoff).
  *Kill*: the source is paced (\`?bps=\`${rs_?.kill?.bps ? `, ${fmtBytes(rs_.kill.bps)}/s` : ""}); when half the file has been served, the whole
  \`wrangler dev\` process group gets SIGKILL (\`process.kill(-pid)\`: wrangler, its proxy and the workerd that
  runs the worker), then a new session starts on the same local state (\`--persist-to\`) and nothing else is
  sent: the runner's alarm goes on by itself. "Fetched after" is every byte served after the interruption;
  the remainder is the file's size minus what was served before it; the excess (the Ratio column) is what
  was fetched twice. At the interruption the bench reads \`ss\` for the bytes queued in socket buffers on the
  simulator's port (both ends' Recv-Q and Send-Q: served, not read by the worker), as
  test/e2e/resume.test.ts does; the rest of the excess was read by the worker but not yet in its
  checkpoint. *Slices*: a session with \`TRANSFER_SLICE_SECONDS=${rs_?.slices?.sliceSeconds ?? 3}\` and a WAV paced to take ~${rs_?.slices ? (rs_.slices.bytes / rs_.slices.bps).toFixed(0) : 10} s; each invocation
  asks the source for the rest, so requests to the source = invocations. Every run ends with the task
  \`stored\` and its sha256 equal to the file's.
- **Waveform peaks**${pk ? ` (${fmtBytes(pk.bytes)}, ${pk.rounds} round${pk.rounds === 1 ? "" : "s"})` : ""}: the ingest measurement above (fresh session, warm-up, callback → \`stored\`)
  of a WAV with Content-Length, with the worker's default \`WAVEFORM_PEAKS=true\` and with
  \`WAVEFORM_PEAKS=false\`, alternating (without, with, without, with) so that a change in the machine's load
  falls on both; the median of each side. Checked: the file's sha256, and that the task shows a waveform
  with peaks and none without.
- **Cron tick**: exactly ${r.cron?.due ?? "D"} due tasks among ${r.cron ? r.cron.ticks.map((t) => t.tracked.toLocaleString("en-US")).join(" and then ") : "N"} tracked ones. A task's due
  time is fixed at registration (registration + \`OVERDUE_AFTER_SECONDS\`), so the due tasks are registered
  (\`PUT /api/tasks/:id\`, autocannon, bounded concurrency) by a first session with
  \`OVERDUE_AFTER_SECONDS=1\`; a second session on the same local state, with \`OVERDUE_AFTER_SECONDS=86400\`,
  registers the rest, which are due only a day later — no timing race decides what is due. The simulator
  answers PENDING, so a polled task is due again 30 s later: the same tasks are due for the second
  measurement, taken after the tracked set has grown and 30 s have passed. Each tick is run with
  \`GET /__scheduled\` (wrangler dev --test-scheduled), which answers after the handler ran; provider calls
  are the record-info requests the simulator received during it, tick time is the worker's own
  \`cron_tick\` line (\`ms\`); the request time is shown beside it. Ticks with nothing due (5 s after each
  measured tick, 1 s apart) show the tick's own cost as the tracked set grows. Registration ran at
  ${r.cron ? `${r.cron.registration.perSecond.toFixed(0)} tasks/s` : "n/a"}.
- "Flat" means the larger tracked set's tick takes at most 1.5× the smaller one's, or at most 50 ms more
  (for ticks that take a few tens of milliseconds, where 1.5× is within the noise of this machine).

## Notes

${notes}

<details><summary>Raw results (JSON)</summary>

\`\`\`json
${JSON.stringify({ environment: env, ...r }, null, 2)}
\`\`\`

</details>
`;
}

/** The results and environment recorded in a BENCHMARKS.md written by writeBenchmarks. */
export function readRecorded(path: string): { results: BenchResults; env: Environment } {
  const text = readFileSync(path, "utf8");
  const m = /```json\n([\s\S]*?)\n```/.exec(text);
  if (!m) throw new Error(`${path} has no raw results block`);
  const { environment: env, ...results } = JSON.parse(m[1]!) as BenchResults & { environment: Environment };
  return { results, env };
}

export function writeBenchmarks(path: string, r: BenchResults, env: Environment): void {
  const previous = existsSync(path) ? readFileSync(path, "utf8") : null;
  writeFileSync(path, markdown(r, env, previous));
}
