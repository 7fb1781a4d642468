// Starts a real `wrangler dev` session of a worker on a free port, for the e2e tests and the
// bench, and stops it again by pid. The session runs in a child process (./dev-server.ts, which
// uses wrangler's unstable_startWorker with file watching off), with its settings and secrets in
// a temporary .env file and its local state (Durable Objects, R2) in a temporary directory that
// is deleted on stop.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DevServerOptions } from "./dev-server.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DEV_SERVER = join(REPO_ROOT, "test/e2e/dev-server.ts");
const HOST = "127.0.0.1";

export interface WorkerLog {
  at: number;
  level: string;
  message: string;
}

/** The worker's {"event":"cron_tick",...} line (src/index.ts). */
export interface CronTickLog {
  event: "cron_tick";
  shardsVisited: number;
  due: number;
  polled: number;
  providerCalls: number;
  outcomes: Record<string, number>;
  stoppedForTrouble: boolean;
  ms: number;
}

export interface StartDevWorkerOptions {
  /** wrangler.toml; default the project's. */
  config?: string;
  /** Settings and secrets; a function gets the URL the worker will have (for PUBLIC_URL). */
  vars?: Record<string, string> | ((where: { url: string; port: number }) => Record<string, string>);
  /** Default: a free port. */
  port?: number;
  /** Default: a new temporary directory, deleted on stop. */
  persistTo?: string;
  /** Where the temporary directory (env file, default state) is made; default os.tmpdir(). */
  tmpRoot?: string;
  /** Keep persistTo on stop (only meaningful when you passed it). */
  keepState?: boolean;
  /** Polled until it answers below 500; default /healthz. */
  readyPath?: string;
  readyTimeoutMs?: number;
  /** Print the worker's console lines. */
  echo?: boolean;
}

export interface DevWorker {
  readonly url: string;
  readonly port: number;
  /** pid of the session's process (the parent of its workerd processes). */
  readonly pid: number;
  readonly persistTo: string;
  readonly logs: WorkerLog[];
  /** The cron_tick lines the worker printed so far. */
  cronTicks(): CronTickLog[];
  /** Waits for a console line matching `test` that arrives after `since` (epoch ms; default: any). */
  waitForLog(test: (l: WorkerLog) => boolean, opts?: { timeoutMs?: number; since?: number }): Promise<WorkerLog>;
  /** pids of the workerd process(es) that run the worker itself (not wrangler's proxy in front). */
  workerdPids(): number[];
  /** All workerd processes of the session, with their role. */
  workerdProcesses(): { pid: number; role: "proxy" | "worker" }[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function envFileText(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not a variable name: ${k}`);
      if (/[\n\r']/.test(v)) throw new Error(`value of ${k} cannot go into an env file`);
      return `${k}='${v}'`;
    })
    .join("\n")
    .concat("\n");
}

/** Parent pid and command name of every process (Linux /proc). */
function processTable(): Map<number, { ppid: number; comm: string }> {
  const table = new Map<number, { ppid: number; comm: string }>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid ...; comm may contain spaces and parentheses
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      table.set(Number(name), { ppid, comm });
    } catch {
      // the process ended meanwhile
    }
  }
  return table;
}

/** pids of the descendants of `root`. */
export function descendants(root: number): number[] {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, p] of table) {
    const list = children.get(p.ppid) ?? [];
    list.push(pid);
    children.set(p.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startDevWorker(options: StartDevWorkerOptions = {}): Promise<DevWorker> {
  const port = options.port ?? (await freePort());
  const url = `http://${HOST}:${port}`;
  const tmp = mkdtempSync(join(options.tmpRoot ?? tmpdir(), "wav-edge-dev-"));
  const persistTo = options.persistTo ?? join(tmp, "state");
  const ownsState = options.persistTo === undefined;
  const envFile = join(tmp, "dev.env");
  const vars = typeof options.vars === "function" ? options.vars({ url, port }) : (options.vars ?? {});
  writeFileSync(envFile, envFileText(vars), { mode: 0o600 });

  const devOptions: DevServerOptions = {
    config: options.config ?? join(REPO_ROOT, "wrangler.toml"),
    envFile,
    host: HOST,
    port,
    persistTo,
  };
  const child: ChildProcess = spawn(process.execPath, [DEV_SERVER, JSON.stringify(devOptions)], {
    cwd: REPO_ROOT,
    // Its own process group: if it will not stop, the group (it and its workerd children) is killed.
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0", CLOUDFLARE_INCLUDE_PROCESS_ENV: "false" },
  });
  const pid = child.pid!;
  const logs: WorkerLog[] = [];
  const stderr: string[] = [];
  const logWaiters = new Set<() => void>();
  let readyUrl: string | null = null;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((done) =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      done();
    }),
  );

  let buf = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let msg: { ready?: string; log?: string; message?: string } | null = null;
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        msg = { log: "stdout", message: line };
      }
      if (msg?.ready) readyUrl = msg.ready;
      else if (msg?.message !== undefined) {
        const entry = { at: Date.now(), level: msg.log ?? "log", message: msg.message };
        logs.push(entry);
        if (options.echo) process.stdout.write(`[worker:${port}] ${entry.message}\n`);
        for (const w of logWaiters) w();
      }
    }
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 200) stderr.splice(0, 100);
    if (options.echo) process.stderr.write(chunk.replace(/^/gm, `[worker:${port}] `));
  });

  const workerdProcesses = () =>
    descendants(pid)
      .filter((p) => commOf(p) === "workerd")
      .map((p) => {
        const cmd = cmdlineOf(p).join(" ");
        // wrangler runs two workerd: a proxy on the public port, and the worker behind it.
        const role: "proxy" | "worker" = cmd.includes(`entry=${HOST}:${port}`) ? "proxy" : "worker";
        return { pid: p, role };
      });
  let knownWorkerd: number[] = [];

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    knownWorkerd = [...new Set([...knownWorkerd, ...workerdProcesses().map((p) => p.pid)])];
    if (exited === null) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
      const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 15_000).unref());
      if ((await Promise.race([exitPromise, timeout])) === "timeout") {
        try {
          process.kill(-pid, "SIGKILL"); // the process group this harness created
        } catch {
          // gone
        }
        await exitPromise;
      }
    }
    // workerd children that outlived their parent (they should not): by pid.
    for (const p of knownWorkerd) {
      if (alive(p) && commOf(p) === "workerd") {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    child.stdin?.destroy();
    if (ownsState || !options.keepState) rmSync(persistTo, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  };

  // Wait for the session to say it is ready, then for the worker to answer.
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  try {
    while (readyUrl === null) {
      if (exited !== null) throw new Error(`wrangler dev exited (${JSON.stringify(exited)}):\n${stderr.join("").slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`wrangler dev did not start in time:\n${stderr.join("").slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const readyPath = options.readyPath ?? "/healthz";
    for (;;) {
      try {
        const res = await fetch(`${url}${readyPath}`, { signal: AbortSignal.timeout(5000) });
        await res.text();
        if (res.status < 500) break;
      } catch {
        // not yet
      }
      if (exited !== null) throw new Error(`wrangler dev exited (${JSON.stringify(exited)}):\n${stderr.join("").slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${url}${readyPath} did not answer in time`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  knownWorkerd = workerdProcesses().map((p) => p.pid);

  return {
    url,
    port,
    pid,
    persistTo,
    logs,
    cronTicks() {
      const ticks: CronTickLog[] = [];
      for (const l of logs) {
        if (!l.message.includes('"cron_tick"')) continue;
        try {
          const parsed = JSON.parse(l.message.slice(l.message.indexOf("{"))) as CronTickLog;
          if (parsed.event === "cron_tick") ticks.push(parsed);
        } catch {
          // not the line we look for
        }
      }
      return ticks;
    },
    waitForLog(test, opts = {}) {
      const since = opts.since ?? 0;
      const find = () => logs.find((l) => l.at >= since && test(l));
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolveLog, reject) => {
        const waiter = () => {
          const hit = find();
          if (hit) {
            clearTimeout(timer);
            logWaiters.delete(waiter);
            resolveLog(hit);
          }
        };
        const timer = setTimeout(() => {
          logWaiters.delete(waiter);
          reject(new Error("no matching worker log line in time"));
        }, opts.timeoutMs ?? 10_000);
        logWaiters.add(waiter);
      });
    },
    workerdProcesses,
    workerdPids: () => workerdProcesses().filter((p) => p.role === "worker").map((p) => p.pid),
    stop,
  };
}

/** The settings the worker under test gets so that it talks to a simulator on `simPort`. */
export function workerVarsFor(
  sim: { url: string; port: number },
  keys: { apiToken: string; hmacKey: string; sunoKey: string },
  extra: Record<string, string> = {},
): (where: { url: string }) => Record<string, string> {
  return ({ url }) => ({
    API_TOKEN: keys.apiToken,
    WEBHOOK_HMAC_KEY: keys.hmacKey,
    CALLBACK_TOKEN: "",
    SUNO_API_KEY: keys.sunoKey,
    SUNO_API_BASE: sim.url,
    WAV_SOURCE_HOSTS: `127.0.0.1:${sim.port}`,
    PUBLIC_URL: url,
    ...extra,
  });
}
