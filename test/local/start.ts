// `npm start` / `npm run dev`: `wrangler dev` plus the Cron Trigger (SPEC.md, "Local
// development"). wrangler dev does not run a worker's cron by itself (wrangler 4 has no flag
// for it), so this script starts it with --test-scheduled and calls its /__scheduled route at
// second 0 of every minute, as Cloudflare runs `* * * * *`, printing one line per tick. Signals
// go to wrangler, and this script exits with wrangler's exit code.
//
//   node test/local/start.ts [wrangler dev options]     (--ip/--port say where to call it)
//
// LOCAL_CRON_EVERY_SECONDS=<n> ticks every n seconds instead (tests); 0 turns the ticks off.

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

// wrangler's CLI itself (its bin script is a launcher that would die on SIGTERM without passing
// it on), started as that launcher does.
const wranglerCli = createRequire(import.meta.url).resolve("wrangler");
const devArgs = ["dev", ...args];
if (!args.includes("--test-scheduled")) devArgs.push("--test-scheduled");
const child = spawn(process.execPath, ["--no-warnings", wranglerCli, ...devArgs], { stdio: "inherit" });

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
child.on("exit", (code, signal) => {
  clearTimeout(timer);
  const codes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  process.exit(code ?? (signal ? (codes[signal] ?? 1) : 1));
});
