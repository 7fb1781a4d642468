// `npm start` / `npm run dev`: `wrangler dev` plus the Cron Trigger (SPEC.md, "Local
// development"). wrangler dev does not run a worker's cron by itself (wrangler 4 has no flag
// for it), so this script starts it with --test-scheduled and calls its /__scheduled route at
// second 0 of every minute, as Cloudflare runs `* * * * *`, printing one line per tick. Signals
// go to wrangler, and this script exits with wrangler's exit code.
//
//   node test/local/start.ts [wrangler dev options]     (--ip/--port say where to call it)
//
// LOCAL_CRON_EVERY_SECONDS=<n> ticks every n seconds instead (tests); 0 turns the ticks off.
//
// Two things wrangler dev would print that only get in the way here (README, "Development"):
// - its own line per request (`[wrangler:info] GET /x 200 OK (3ms)`), beside the worker's JSON
//   request line: wrangler has no switch for it, so its output passes through a filter that drops
//   exactly those lines (the worker's line stays: it is what production logs too);
// - a warning with a stack, twice, that it cannot fetch `Request.cf` when offline: the worker reads
//   nothing from `request.cf`, so it is not fetched (wrangler's documented
//   CLOUDFLARE_CF_FETCH_ENABLED=false, unless you set that variable yourself).

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

/** wrangler.toml's [triggers] crons: the worker's one schedule, every minute. */
const CRON = "* * * * *";
const TICK_TIMEOUT_MS = 5 * 60_000;

const args = process.argv.slice(2);
const { values } = parseArgs({
  args,
  options: { ip: { type: "string" }, port: { type: "string" } },
  strict: false,
  allowPositionals: true,
});
const host = typeof values.ip === "string" && values.ip !== "0.0.0.0" ? values.ip : "127.0.0.1";
const port = typeof values.port === "string" ? values.port : "8787";
const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
const everySeconds = process.env.LOCAL_CRON_EVERY_SECONDS === undefined ? null : Number(process.env.LOCAL_CRON_EVERY_SECONDS);
if (everySeconds !== null && !(Number.isFinite(everySeconds) && everySeconds >= 0)) {
  process.stderr.write(`LOCAL_CRON_EVERY_SECONDS must be a number of seconds, not "${process.env.LOCAL_CRON_EVERY_SECONDS}"\n`);
  process.exit(2);
}

/** wrangler's own request line (`[wrangler:info] GET /path 200 OK (3ms)`), colours or not. */
const WRANGLER_REQUEST_LINE = /^\[wrangler:info\] [A-Z]+ \/\S* \d{3}\b.*\(\d+ms\)/;
const ANSI = /\x1b\[[0-9;]*m/g;

/** Copies wrangler's output, line by line, without its request lines; a partial line goes out after 100 ms. */
function passThrough(from: NodeJS.ReadableStream, to: NodeJS.WriteStream): void {
  let pending = "";
  let flush: NodeJS.Timeout | undefined;
  const emit = (line: string) => {
    if (!WRANGLER_REQUEST_LINE.test(line.replace(ANSI, ""))) to.write(line);
  };
  from.setEncoding("utf8");
  from.on("data", (chunk: string) => {
    clearTimeout(flush);
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) !== -1) {
      emit(pending.slice(0, nl + 1));
      pending = pending.slice(nl + 1);
    }
    if (pending !== "") {
      flush = setTimeout(() => {
        emit(pending);
        pending = "";
      }, 100);
    }
  });
  from.on("end", () => {
    clearTimeout(flush);
    if (pending !== "") emit(pending);
  });
}

// wrangler's CLI itself (its bin script is a launcher that would die on SIGTERM without passing
// it on), started as that launcher does.
const wranglerCli = createRequire(import.meta.url).resolve("wrangler");
const devArgs = ["dev", ...args];
if (!args.includes("--test-scheduled")) devArgs.push("--test-scheduled");
const childEnv: NodeJS.ProcessEnv = { ...process.env };
childEnv.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
// Its output goes through a pipe now: keep wrangler's colours when this script writes to a terminal.
if (process.stdout.isTTY && childEnv.NO_COLOR === undefined) childEnv.FORCE_COLOR ??= "1";
const child = spawn(process.execPath, ["--no-warnings", wranglerCli, ...devArgs], { stdio: ["inherit", "pipe", "inherit"], env: childEnv });
passThrough(child.stdout!, process.stdout);

const log = (line: string) => process.stdout.write(`[local cron] ${line}\n`);
let running = false;
let stopping = false;
let timer: NodeJS.Timeout | undefined;

async function tick(): Promise<void> {
  const at = new Date().toISOString().slice(0, 19) + "Z";
  if (running) {
    log(`${at} skipped: the previous tick is still running`);
    return;
  }
  running = true;
  const t0 = performance.now();
  try {
    const res = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent(CRON)}`, { signal: AbortSignal.timeout(TICK_TIMEOUT_MS) });
    await res.text();
    const ms = Math.round(performance.now() - t0);
    log(res.ok ? `${at} ran the scheduled handler (${ms} ms)` : `${at} /__scheduled answered ${res.status} (${ms} ms)`);
  } catch (err) {
    const why = (err as Error).name === "TimeoutError" ? "no answer in time" : "the worker is not answering (yet)";
    log(`${at} not run: ${why}`);
  } finally {
    running = false;
  }
}

function schedule(): void {
  if (everySeconds === 0 || stopping) return;
  // Cloudflare runs `* * * * *` at second 0 of each minute.
  const periodMs = (everySeconds ?? 60) * 1000;
  const delay = everySeconds === null ? periodMs - (Date.now() % periodMs) : periodMs;
  timer = setTimeout(() => {
    void tick();
    schedule();
  }, delay);
}

if (everySeconds !== 0) log(`calls ${origin}/__scheduled ${everySeconds === null ? "at second 0 of every minute" : `every ${everySeconds} s`}`);
schedule();

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    stopping = true;
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

child.on("error", (err) => {
  process.stderr.write(`could not start wrangler: ${err.message}\n`);
  process.exit(1);
});
// "close", not "exit": wrangler's last lines are through the filter by then.
child.on("close", (code, signal) => {
  clearTimeout(timer);
  const codes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  process.exit(code ?? (signal ? (codes[signal] ?? 1) : 1));
});
